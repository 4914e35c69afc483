import dataclasses
import math

import pytest
import torch

from codefusion.config import get_config
from codefusion.losses import training_loss
from codefusion.model import CodeFusion, count_parameters
from codefusion.tokenizer import PAD_ID


def tiny_model(**overrides):
    cfg = dataclasses.replace(get_config("tiny").model, vocab_size=40, **overrides)
    torch.manual_seed(0)
    return CodeFusion(cfg, encoder_dim=24).eval()


def source(B=2, S=5):
    g = torch.Generator().manual_seed(3)
    mask = torch.ones(B, S, dtype=torch.bool)
    mask[-1, -2:] = False
    return torch.randn(B, S, 24, generator=g), mask


def test_embeddings_have_fixed_norm():
    m = tiny_model()
    norms = m.embedding_matrix().norm(dim=-1)
    assert torch.allclose(norms, torch.full_like(norms, math.sqrt(m.cfg.embed_dim)), atol=1e-4)


def test_forward_shapes():
    m = tiny_model()
    states, mask = source()
    ids = torch.randint(0, 40, (2, m.cfg.max_code_len))
    out = m(ids, m.project_source(states), mask, torch.tensor([0, 150]), torch.randn(2, 8, 16))
    assert out["x0_pred"].shape == out["x0"].shape == out["dec_states"].shape == (2, 8, 16)
    assert out["logits"].shape == (2, 8, 40)


def test_sample_shapes_scores_and_pad_cut():
    m = tiny_model()
    states, mask = source()
    out = m.sample(states, mask, k=3, steps=4, generator=torch.Generator().manual_seed(0), return_trajectory=True)
    assert out.ids.shape == (2, 3, 8) and out.scores.shape == (2, 3)
    assert torch.all(out.scores <= 0)
    assert len(out.trajectory) == 4 and out.trajectory[0].shape == (2, 3, 8)
    assert out.timesteps == [t for t, _ in m.scheduler.set_timesteps(4)]
    for row in out.ids.reshape(-1, 8).tolist():   # nothing but pads after the first pad
        if PAD_ID in row:
            assert all(i == PAD_ID for i in row[row.index(PAD_ID):])


def test_sample_is_deterministic_under_a_seed_and_k_draws_differ():
    m = tiny_model()
    states, mask = source()
    a = m.sample(states, mask, k=4, steps=3, generator=torch.Generator().manual_seed(7))
    b = m.sample(states, mask, k=4, steps=3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.ids, b.ids) and torch.equal(a.scores, b.scores)
    c = m.sample(states, mask, k=4, steps=3, generator=torch.Generator().manual_seed(8), eta=1.0)
    d = m.sample(states, mask, k=4, steps=3, generator=torch.Generator().manual_seed(8), eta=1.0)
    assert torch.equal(c.ids, d.ids)
    assert len(set(a.scores[0].tolist())) == 4   # k independent noise draws, not one draw repeated


def test_clamped_sampling_runs():
    m = tiny_model(clamp_sampling=True)
    states, mask = source()
    assert m.sample(states, mask, k=2, steps=3).ids.shape == (2, 2, 8)


def test_x0_projections_land_on_the_embeddings_manifold():
    m = tiny_model().eval()
    states, mask = source()
    memory = m.project_source(states)
    x0 = torch.randn(2, 8, m.cfg.embed_dim) * 0.1          # a blurred estimate, far shorter than any embedding
    emb = m.embedding_matrix()
    sphere = m.project_x0(x0, memory, mask, "sphere")
    assert torch.allclose(sphere.norm(dim=-1), torch.full((2, 8), emb.norm(dim=-1)[0].item()), atol=1e-4)
    clamped = m.project_x0(x0, memory, mask, "clamp")
    assert all(any(torch.allclose(v, e) for e in emb) for v in clamped.reshape(-1, emb.shape[1]))
    soft = m.project_x0(x0, memory, mask, "soft")
    assert (soft.norm(dim=-1) <= emb.norm(dim=-1).max() + 1e-4).all()   # a convex combination of embeddings
    assert torch.equal(m.project_x0(x0, memory, mask, "none"), x0)
    with pytest.raises(ValueError, match="unknown x0 projection"):
        m.project_x0(x0, memory, mask, "bogus")


@pytest.mark.parametrize("projection", ["none", "clamp", "sphere", "soft"])
def test_sampling_with_each_projection_is_seeded(projection):
    m = tiny_model().eval()
    states, mask = source()
    a = m.sample(states, mask, k=3, steps=4, generator=torch.Generator().manual_seed(1), projection=projection)
    b = m.sample(states, mask, k=3, steps=4, generator=torch.Generator().manual_seed(1), projection=projection)
    assert a.ids.shape == (2, 3, 8) and torch.equal(a.ids, b.ids)


@pytest.mark.parametrize("predict", ["x0", "noise"])
def test_gradients_reach_every_part(predict):
    m = tiny_model(predict=predict).train()
    states, mask = source()
    ids = torch.randint(0, 40, (2, 8))
    terms = training_loss(m, ids, m.project_source(states), mask, torch.Generator().manual_seed(0))
    names = ("embedding.weight", "source_proj.0.weight", "denoiser.inp.weight", "denoiser.out.weight",
             "decoder.out.weight", "logit_bias")
    params = dict(m.named_parameters())
    grads = torch.autograd.grad(terms["loss"], [params[name] for name in names], allow_unused=True)
    for name, grad in zip(names, grads):
        assert grad is not None and grad.abs().sum() > 0, name


def test_padding_in_the_request_is_ignored():
    m = tiny_model()
    states, mask = source(B=1, S=4)
    padded = torch.cat([states, torch.randn(1, 3, 24)], 1)
    padded_mask = torch.cat([mask, torch.zeros(1, 3, dtype=torch.bool)], 1)
    a = m.sample(states, mask, k=2, steps=3, generator=torch.Generator().manual_seed(1))
    b = m.sample(padded, padded_mask, k=2, steps=3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a.ids, b.ids)
    assert torch.allclose(a.scores, b.scores, atol=1e-5)


def test_paper_config_size():
    cfg = get_config("paper").model
    cfg.vocab_size = 16000
    m = CodeFusion(cfg, encoder_dim=768)   # CodeT5-base width; the encoder itself is not counted
    n = count_parameters(m)
    print(f"paper config: {n / 1e6:.1f}M parameters without the encoder "
          f"(denoiser {count_parameters(m.denoiser) / 1e6:.1f}M, decoder {count_parameters(m.decoder) / 1e6:.1f}M)")
    assert 65e6 < n < 85e6


def head_log_probs(*positions) -> torch.Tensor:
    """[1, L, 6] log-probs where position i holds (argmax token, its log-prob, runner-up token, its log-prob)."""
    logp = torch.full((1, len(positions), 6), -10.0)
    for i, (best, best_lp, second, second_lp) in enumerate(positions):
        logp[0, i, best], logp[0, i, second] = best_lp, second_lp
    return logp.log_softmax(-1)


def test_swap_variants_change_the_least_certain_positions_to_their_runner_up():
    from codefusion.model import cut_at_first_pad, swap_variants
    # argmax 3 4 5 PAD; position 1 is the unsure one (runner-up 2 close behind), position 0 next
    logp = head_log_probs((3, -0.1, 1, -2.0), (4, -0.6, 2, -0.8), (5, -0.05, 1, -6.0), (PAD_ID, -0.01, 1, -9.0))
    ids = logp.argmax(-1)
    variants = swap_variants(logp, ids, 2)
    assert variants.shape == (1, 2, 4)
    assert variants[0, 0].tolist() == [3, 2, 5, PAD_ID]       # most unsure position first
    assert variants[0, 1].tolist() == [1, 4, 5, PAD_ID]
    cut, scores = cut_at_first_pad(torch.cat([ids[:, None], variants], 1), logp[:, None].expand(-1, 3, -1, -1))
    assert scores[0, 0] > scores[0, 1] > scores[0, 2]         # a variant never outscores its argmax


def test_swap_variants_swap_two_hesitant_positions_together_before_a_sure_one():
    from codefusion.model import swap_variants
    # argmax 3 4 5 2: positions 0 and 1 hesitate (margins 0.2, 0.3), position 2 is sure (margin 5)
    logp = head_log_probs((3, -0.5, 1, -0.7), (4, -0.5, 2, -0.8), (5, -0.01, 1, -5.01), (2, -0.01, 1, -9.0))
    variants = swap_variants(logp, logp.argmax(-1), 3)[0].tolist()
    assert variants == [[1, 4, 5, 2], [3, 2, 5, 2], [1, 2, 5, 2]]   # {0}, {1}, then {0, 1} (cost 0.5 < 5)


def test_sampling_with_alternatives_returns_them_after_each_draw():
    m = tiny_model()
    states, mask = source()
    base = m.sample(states, mask, k=3, steps=2, generator=torch.Generator().manual_seed(0))
    more = m.sample(states, mask, k=3, steps=2, generator=torch.Generator().manual_seed(0), alternatives=2)
    assert more.ids.shape == (2, 9, 8) and more.scores.shape == (2, 9)
    assert torch.equal(more.ids[:, ::3], base.ids)            # draws first, then their variants
    assert torch.all(more.scores[:, 1::3] <= more.scores[:, ::3] + 1e-6)


def test_more_alternatives_than_code_positions_is_refused():
    m = tiny_model()
    states, mask = source()
    with pytest.raises(ValueError, match="alternatives"):
        m.sample(states, mask, k=1, steps=1, alternatives=m.cfg.max_code_len + 1)


def test_restart_adds_k_restarted_draws_after_the_k_draws_of_each_request():
    m = tiny_model()
    states, mask = source()
    base = m.sample(states, mask, k=3, steps=1, generator=torch.Generator().manual_seed(0), alternatives=1)
    more = m.sample(states, mask, k=3, steps=1, generator=torch.Generator().manual_seed(0), alternatives=1,
                    restart_t=150)
    assert more.ids.shape == (2, 12, 8) and more.scores.shape == (2, 12)
    assert torch.equal(more.ids[:, :6], base.ids)             # the plain draws (and variants) come first, unchanged
    assert torch.equal(more.scores[:, :6], base.scores)


def test_restart_rereads_the_estimate_from_fresh_noise_at_its_step():
    m = tiny_model()
    states, mask = source(B=1)
    memory = m.project_source(states)
    x0 = m.embed(torch.randint(0, 40, (1, m.cfg.max_code_len)))
    a = m.restart(x0, memory, mask, 120, "none", generator=torch.Generator().manual_seed(1))
    b = m.restart(x0, memory, mask, 120, "none", generator=torch.Generator().manual_seed(2))
    assert a.shape == x0.shape and not torch.allclose(a, b)   # fresh noise, another sample
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([120])
    expected = m.predict_x0(m.scheduler.add_noise(x0, noise, t), t, memory, mask)[0]
    assert torch.allclose(a, expected, atol=1e-6)


def test_each_draw_restarts_as_often_as_asked_and_the_restarts_differ():
    m = tiny_model()
    states, mask = source()
    out = m.sample(states, mask, k=2, steps=1, generator=torch.Generator().manual_seed(0), restart_t=150,
                   restarts=3)
    assert out.ids.shape == (2, 8, 8)                         # 2 draws, then 3 restarts of each
    assert len(set(out.scores[0, 2:].tolist())) == 6          # fresh noise for every restart
    with pytest.raises(ValueError, match="restarts"):
        m.sample(states, mask, k=1, steps=1, restart_t=150, restarts=0)


@pytest.mark.parametrize("t", [-1, 200])   # tiny: T = 200
def test_restart_outside_the_diffusion_steps_is_refused(t):
    m = tiny_model()
    states, mask = source()
    with pytest.raises(ValueError, match="restart_t"):
        m.sample(states, mask, k=1, steps=1, restart_t=t)


def test_restart_is_the_last_trajectory_frame():
    m = tiny_model()
    states, mask = source()
    out = m.sample(states, mask, k=2, steps=3, generator=torch.Generator().manual_seed(0), restart_t=100,
                   return_trajectory=True)
    assert out.timesteps == [t for t, _ in m.scheduler.set_timesteps(3)] + [100]
    assert len(out.trajectory) == 4 and out.trajectory[-1].shape == (2, 2, 8)
    assert torch.equal(out.trajectory[-1], out.ids[:, 2:])    # the restarted draws, as returned


def test_draws_sharing_their_request_memory_match_the_repeated_memory():
    from codefusion.model import run_stack
    m = tiny_model()
    states, mask = source()                                     # 2 requests, the second with padding
    memory = m.project_source(states)
    h = torch.randn(6, 8, m.cfg.d_model, generator=torch.Generator().manual_seed(4))   # 3 draws per request
    with torch.inference_mode():
        shared = run_stack(m.denoiser.stack, h, memory, mask)
        repeated = m.denoiser.stack(h, memory.repeat_interleave(3, 0),
                                    memory_key_padding_mask=~mask.repeat_interleave(3, 0))
    assert torch.allclose(shared, repeated, atol=1e-5)
