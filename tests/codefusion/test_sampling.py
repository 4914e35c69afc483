"""codefusion/sampling.py: the display trajectory is the sampler's own chain, sampling stops when asked,
and the generator's display lines follow the draws nearest to the answer."""
import dataclasses

import pytest
import torch

from codefusion.config import get_config
from codefusion.generate import nearest_draws
from codefusion.model import CodeFusion
from codefusion.sampling import SamplingStopped, display_trajectory, initial_noise, sample
from codefusion.tokenizer import PAD_ID


def tiny_model():
    cfg = dataclasses.replace(get_config("tiny").model, vocab_size=40)
    torch.manual_seed(0)
    return CodeFusion(cfg, encoder_dim=24).eval()


def one_request(S=5):
    return torch.randn(1, S, 24, generator=torch.Generator().manual_seed(3)), torch.ones(1, S, dtype=torch.bool)


@pytest.mark.parametrize("projection", ["none", "soft"])
def test_the_display_trajectory_ends_where_the_sampler_does(projection):
    m = tiny_model()
    states, mask = one_request()
    out = sample(m, states, mask, k=3, steps=6, generator=torch.Generator().manual_seed(5), projection=projection)
    noise = initial_noise(m, 3, torch.Generator().manual_seed(5), states.device)
    frames = list(display_trajectory(m, states, mask, noise, 6, projection))
    assert len(frames) == 1 + 6                                   # x_T, then every step
    assert [t for t, _ in frames][-1] == -1
    assert [t for t, _ in frames] == sorted((t for t, _ in frames), reverse=True)
    assert torch.equal(frames[-1][1], out.ids[0])                 # the same chain as sampling's
    # the first frame is the noise itself: what x_T spells, nothing the model wrote
    spelled = (noise @ m.embedding_matrix().t()).argmax(-1)
    is_pad = spelled == PAD_ID
    spelled = spelled.masked_fill((is_pad.cumsum(-1) - is_pad.long()) > 0, PAD_ID)   # read up to the first pad
    assert torch.equal(frames[0][1], spelled)


def test_one_display_step_is_the_one_step_reading():
    m = tiny_model()
    states, mask = one_request()
    noise = initial_noise(m, 2, torch.Generator().manual_seed(1), states.device)
    out = sample(m, states, mask, k=2, steps=1, generator=torch.Generator().manual_seed(1))
    (t, ids), = list(display_trajectory(m, states, mask, noise, 1))
    assert t == -1 and torch.equal(ids, out.ids[0])


def test_sampling_and_display_stop_between_steps_when_asked():
    m = tiny_model()
    states, mask = one_request()
    calls = []

    def stop_after_two():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(SamplingStopped):
        sample(m, states, mask, k=2, steps=10, should_stop=stop_after_two)
    assert len(calls) == 3
    calls.clear()
    noise = initial_noise(m, 2, torch.Generator().manual_seed(0), states.device)
    frames = []
    with pytest.raises(SamplingStopped):
        for frame in display_trajectory(m, states, mask, noise, 10, should_stop=stop_after_two):
            frames.append(frame)
    assert len(frames) == 1 + 2                                   # x_T and the two steps it was let run


def test_each_answer_line_follows_the_most_alike_draw_once():
    readings = ["LessThan(500)", "LessThan(c[2], 500)", "top(3)", "LessThan(500)"]
    assert nearest_draws(["LessThan(c[2], 500)", "LessThan(500)", "top(c[1], 3)"], readings) == [1, 0, 2]
    assert nearest_draws(["LessThan(500)"] * 5, readings[:2]) == [0, 1, 0, 0, 0]   # reused once all are taken
