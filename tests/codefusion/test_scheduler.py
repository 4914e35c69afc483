import pytest
import torch

from codefusion.scheduler import DiffusionScheduler, clamp_to_embeddings


def test_alpha_bar_is_decreasing_and_bounded():
    s = DiffusionScheduler(1200, 1e-4)
    ab = s.alphas_cumprod
    assert ab.shape == (1200,)
    assert torch.all(ab[1:] < ab[:-1])
    assert torch.all((ab > 0) & (ab < 1))
    assert ab[0] > 0.9 and ab[-1] < 0.01
    # sqrt schedule: noise arrives fast at the start, so 10 % of the way in, most signal is gone already
    assert ab[120] < 0.75


def test_add_noise_statistics():
    s = DiffusionScheduler(1000)
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((4000, 16), 2.0)
    for step in (0, 300, 999):
        t = torch.full((4000,), step)
        x = s.add_noise(x0, torch.randn(x0.shape, generator=g), t)
        ab = float(s.alphas_cumprod[step])
        assert abs(x.mean().item() - 2.0 * ab ** 0.5) < 0.02
        assert abs(x.var().item() - (1 - ab)) < 0.03


def test_add_noise_uses_one_timestep_per_row():
    s = DiffusionScheduler(100)
    x0, noise = torch.ones(2, 3, 4), torch.zeros(2, 3, 4)
    x = s.add_noise(x0, noise, torch.tensor([0, 99]))
    assert torch.allclose(x[0], torch.full((3, 4), s.alphas_cumprod[0].sqrt().item()))
    assert torch.allclose(x[1], torch.full((3, 4), s.alphas_cumprod[99].sqrt().item()))


def test_set_timesteps_is_strided_and_ends_denoised():
    s = DiffusionScheduler(1200)
    pairs = s.set_timesteps(10)
    assert len(pairs) == 10
    ts = [t for t, _ in pairs]
    assert ts[0] == 1199 and ts[-1] == 0 and ts == sorted(ts, reverse=True)
    assert [p for _, p in pairs] == ts[1:] + [-1]
    assert len(s.set_timesteps(5000)) == 1200      # never more steps than the process has
    with pytest.raises(ValueError):
        s.set_timesteps(0)


def test_ddim_step_with_true_x0_follows_the_forward_process():
    # eta=0 and a perfect x0 estimate: x_{t_prev} must equal the forward noising of x0 with the same noise
    s = DiffusionScheduler(1000)
    g = torch.Generator().manual_seed(1)
    x0, noise = torch.randn(3, 5, 8, generator=g), torch.randn(3, 5, 8, generator=g)
    x_t = s.add_noise(x0, noise, torch.full((3,), 700))
    x_prev = s.step(x0, 700, 400, x_t, eta=0.0)
    assert torch.allclose(x_prev, s.add_noise(x0, noise, torch.full((3,), 400)), atol=1e-4)
    assert torch.equal(s.step(x0, 5, -1, x_t), x0)


def test_stochastic_step_depends_on_generator_only():
    s = DiffusionScheduler(1000)
    x0, x_t = torch.zeros(2, 4, 8), torch.randn(2, 4, 8)
    a = s.step(x0, 600, 300, x_t, eta=1.0, generator=torch.Generator().manual_seed(5))
    b = s.step(x0, 600, 300, x_t, eta=1.0, generator=torch.Generator().manual_seed(5))
    c = s.step(x0, 600, 300, x_t, eta=1.0, generator=torch.Generator().manual_seed(6))
    d = s.step(x0, 600, 300, x_t, eta=0.0)
    assert torch.equal(a, b) and not torch.allclose(a, c) and not torch.allclose(a, d)


def test_clamp_to_embeddings_snaps_to_nearest_row():
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    x = torch.tensor([[[0.9, 0.2], [-0.7, 0.1], [0.1, 2.0]]])
    assert torch.equal(clamp_to_embeddings(x, emb), emb[[0, 2, 1]].unsqueeze(0))
