"""The diffusion process alone (no learnable parameters), in the style of diffusers' schedulers.

Noise schedule: Diffusion-LM's "sqrt" schedule, alpha_bar(u) = 1 - sqrt(u + s) for u = t/T in [0, 1].
It adds noise fast at the start, which suits discrete tokens: a little noise leaves them trivially
recoverable, so training time goes to the harder, noisier steps. As in Diffusion-LM, per-step betas
are taken from consecutive alpha_bar ratios and capped at 0.999 so alpha_bar stays positive at t=T.

Timesteps are integer indices 0..T-1; `alphas_cumprod[t]` is the signal share of x_t.
"""
from __future__ import annotations

import math

import torch


class DiffusionScheduler:
    def __init__(self, num_train_steps: int = 1200, offset: float = 1e-4, max_beta: float = 0.999):
        if num_train_steps < 2:
            raise ValueError(f"num_train_steps must be >= 2, got {num_train_steps}")
        self.num_train_steps = num_train_steps

        def alpha_bar(u: float) -> float:
            return 1.0 - math.sqrt(u + offset)

        betas = [min(1.0 - alpha_bar((i + 1) / num_train_steps) / alpha_bar(i / num_train_steps), max_beta)
                 for i in range(num_train_steps)]
        self.betas = torch.tensor(betas, dtype=torch.float64)
        self.alphas_cumprod = torch.cumprod(1.0 - self.betas, dim=0).float()

    # -- training ---------------------------------------------------------------------
    def _bcast(self, values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return values.to(like.device, like.dtype).reshape(-1, *([1] * (like.dim() - 1)))

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """q(x_t | x_0): sqrt(ab_t) x0 + sqrt(1 - ab_t) noise, with one timestep per batch row."""
        ab = self._bcast(self.alphas_cumprod[t.long().cpu()], x0)
        return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise

    def x0_from_noise(self, x_t: torch.Tensor, noise_pred: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # alpha_bar is floored so the division stays finite at the noisiest steps
        ab = self._bcast(self.alphas_cumprod[t.long().cpu()].clamp(min=1e-4), x_t)
        return (x_t - (1.0 - ab).sqrt() * noise_pred) / ab.sqrt()

    def sample_timesteps(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randint(0, self.num_train_steps, (batch,), generator=generator)

    # -- sampling ---------------------------------------------------------------------
    def set_timesteps(self, num_steps: int) -> list[tuple[int, int]]:
        """Strided subsequence of timesteps for sampling, noisiest first, as (t, t_prev) pairs.
        The last pair has t_prev = -1, meaning "fully denoised" (alpha_bar = 1)."""
        if num_steps < 1:
            raise ValueError(f"num_steps must be >= 1, got {num_steps}")
        num_steps = min(num_steps, self.num_train_steps)
        ts = torch.linspace(self.num_train_steps - 1, 0, num_steps).round().long().tolist()
        ts = list(dict.fromkeys(ts))  # drop duplicates, keep order
        return list(zip(ts, ts[1:] + [-1]))

    def alpha_bar_at(self, t: int) -> float:
        return 1.0 if t < 0 else float(self.alphas_cumprod[t])

    def step(self, x0_pred: torch.Tensor, t: int, t_prev: int, x_t: torch.Tensor, eta: float = 0.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """DDIM update x_t -> x_{t_prev} given the model's x0 estimate. eta=0: deterministic; eta=1: DDPM-like."""
        ab_t, ab_prev = self.alpha_bar_at(t), self.alpha_bar_at(t_prev)
        if t_prev < 0:
            return x0_pred
        eps = (x_t - math.sqrt(ab_t) * x0_pred) / math.sqrt(max(1.0 - ab_t, 1e-12))
        sigma = eta * math.sqrt(max((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev), 0.0))
        direction = math.sqrt(max(1.0 - ab_prev - sigma ** 2, 0.0)) * eps
        x_prev = math.sqrt(ab_prev) * x0_pred + direction
        if sigma > 0:
            z = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device)
            x_prev = x_prev + sigma * z
        return x_prev


def clamp_to_embeddings(x0_pred: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
    """Diffusion-LM's clamping trick: replace each predicted vector by its nearest code embedding (L2)."""
    flat = x0_pred.reshape(-1, x0_pred.shape[-1])
    dist = torch.cdist(flat, embeddings)
    return embeddings[dist.argmin(-1)].reshape(x0_pred.shape)
