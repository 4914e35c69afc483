"""Sampling from a CodeFusion model (codefusion/model.py holds the networks, scheduler.py the process).

    noise x_T --(DDIM steps: Denoiser -> x0 estimate -> projection -> scheduler.step)--> x0 estimate
    x0 estimate --(Decoder, tied head)--> logits --argmax--> tokens, cut at the first [PAD]
    optional: restart each draw from t < T (restart sampling), swap variants of each draw's tokens

`sample` is the generation path; `display_trajectory` runs the same model over many steps for the task
pane's denoising view and yields what the sampler's latent spells after every step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from .scheduler import clamp_to_embeddings
from .tokenizer import PAD_ID

PROJECTIONS = ("none", "clamp", "sphere", "soft")
SWAP_POSITIONS = 8    # swap variants combine runner-ups among at most this many least-sure positions


class SamplingStopped(Exception):
    """Raised between steps when the caller's `should_stop()` says the result is no longer wanted."""


@dataclass
class SampleOutput:
    ids: torch.Tensor                 # [B, k, L] token ids, everything after the first [PAD] set to [PAD]
    scores: torch.Tensor              # [B, k] mean log-prob of the chosen tokens (up to and with the first [PAD])
    trajectory: list | None = None    # per sampling step: [B, k, L] ids decoded from that step's x0 estimate
    timesteps: list | None = None     # the t of each sampling step


def resolve_projection(model, clamp: bool | None = None, projection: str | None = None) -> str:
    clamp = model.cfg.clamp_sampling if clamp is None else clamp
    return projection or ("clamp" if clamp else getattr(model.cfg, "x0_projection", "none"))


def initial_noise(model, draws: int, generator: torch.Generator | None, device) -> torch.Tensor:
    """x_T for `draws` draws: the generator's first numbers, so a seed fixes the draws of `sample` and of
    `display_trajectory` alike."""
    return torch.randn(draws, model.cfg.max_code_len, model.cfg.embed_dim, generator=generator).to(device)


def tokens(model, logits, alternatives: int = 0):
    """Argmax tokens of head logits [N, L, V] cut at the first pad, and their mean log-prob. With
    `alternatives` = n, each sequence is followed by n variants (ids [N, 1 + n, L]), see swap_variants."""
    logp = logits.log_softmax(-1)
    ids = logp.argmax(-1)
    if alternatives:
        ids = torch.cat([ids[:, None], swap_variants(logp, ids, alternatives)], 1)
        logp = logp[:, None].expand(-1, ids.shape[1], -1, -1)
    return cut_at_first_pad(ids, logp)


def project_x0(model, x0_pred, memory, memory_mask, how: str, logits: torch.Tensor | None = None) -> torch.Tensor:
    """Put an intermediate x0 estimate back where the denoiser was trained to see signal.

    Early in sampling x0_pred is a blur of several plausible tokens, shorter than any code embedding
    (all have norm sqrt(embed_dim)). Fed back through the DDIM update as it is, the next step's x_t
    holds less signal than any training input at that t, and the samples drift (measured: top-1 on
    the CF dev split fell from 0.83 with 1 step to 0.33 with 16). "sphere" rescales each position to
    the embeddings' norm (cheap); "soft" replaces it by the decoder's expected embedding (one decoder
    pass per step, saved when the head's `logits` for x0_pred are passed); "clamp" snaps it to the
    nearest embedding (Diffusion-LM)."""
    if how == "none":
        return x0_pred
    if how == "sphere":
        return F.normalize(x0_pred, dim=-1) * math.sqrt(model.cfg.embed_dim)
    emb = model.embedding_matrix()
    if how == "clamp":
        return clamp_to_embeddings(x0_pred, emb)
    if how == "soft":
        if logits is None:
            logits = model.logits(model.decode(x0_pred, memory, memory_mask))
        return logits.softmax(-1) @ emb
    raise ValueError(f"unknown x0 projection {how!r}; choose one of {PROJECTIONS}")


def restart(model, x0_pred, memory, memory_mask, t: int, projection: str, generator=None,
            logits: torch.Tensor | None = None) -> torch.Tensor:
    """One restart (restart sampling, Xu et al. 2023): noise the final estimate back to step t with fresh
    noise and denoise it once more.

    At one sampling step the estimate from pure noise hardly depends on the noise (the denoiser has
    learned that x_T carries no signal), so k draws mostly agree. Restarted from t < T, the estimate's
    confident tokens survive the fresh noise and its hesitant ones are re-read: another sample from the
    model, near the first, that can differ in structure (`NOT(Blanks(c[2]))` against
    `TextEquals(c[2], <STR0>)`), which a token swap cannot reach."""
    if not 0 < t < model.scheduler.num_train_steps:
        raise ValueError(f"restart_t must be between 1 and {model.scheduler.num_train_steps - 1}, got {t}")
    x0 = project_x0(model, x0_pred, memory, memory_mask, projection, logits)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    tt = torch.full((x0.shape[0],), t, dtype=torch.long, device=x0.device)
    return model.predict_x0(model.scheduler.add_noise(x0, noise, tt), tt, memory, memory_mask)[0]


def _stop_if_asked(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise SamplingStopped()


@torch.inference_mode()
def sample(model, states: torch.Tensor, mask: torch.Tensor, k: int = 5, steps: int | None = None,
           generator: torch.Generator | None = None, eta: float = 0.0, return_trajectory: bool = False,
           clamp: bool | None = None, projection: str | None = None, alternatives: int = 0,
           restart_t: int = 0, restarts: int = 1, neighbour_ids: torch.Tensor | None = None,
           should_stop: Callable[[], bool] | None = None) -> SampleOutput:
    """Generate k candidates per request from k independent noise draws, all in one batch.

    states/mask: raw encoder output [B, S, H] / [B, S] (projection happens here).
    The final tokens are decoded from the last raw x0 estimate; `projection` (default: the config's
    x0_projection, or "clamp" when clamp/clamp_sampling is set) only shapes what the next step sees.
    `alternatives` = n adds n swap variants after each draw (see swap_variants): ids [B, k * (1 + n), L].
    `restart_t` > 0 restarts each draw `restarts` times (see restart) and adds those k * restarts draws
    after the k draws: ids [B, k * (1 + restarts) * (1 + n), L]; the trajectory gets one more frame, at
    t = restart_t, with the first k restarted draws. `neighbour_ids` [B, m, L]: the request's neighbour codes
    (models with neighbour memory); a self-conditioned model reads each step's previous estimate.
    `should_stop`: asked before every step; True ends sampling with SamplingStopped."""
    steps = steps or model.cfg.sampling_steps
    projection = resolve_projection(model, clamp, projection)
    B, L, device = states.shape[0], model.cfg.max_code_len, states.device
    if not 0 <= alternatives <= L:
        raise ValueError(f"alternatives must be between 0 and max_code_len={L}, got {alternatives}")
    memory, mem_mask = model.project_source(states), mask   # one row per request, shared by its draws (run_stack)
    memory, mem_mask = model.with_neighbours(memory, mem_mask, neighbour_ids)
    x = initial_noise(model, B * k, generator, device)
    trajectory, timesteps = ([], []) if return_trajectory else (None, None)
    x0_pred, x0_prev = x, None
    for t, t_prev in model.scheduler.set_timesteps(steps):
        _stop_if_asked(should_stop)
        tt = torch.full((B * k,), t, dtype=torch.long, device=device)
        x0_pred, _ = model.predict_x0(x, tt, memory, mem_mask, x0_prev)
        x0_prev = x0_pred if model.denoiser.self_cond is not None else None
        logits = None   # the head's reading of this estimate: one decoder pass serves the frame and the projection
        if return_trajectory:
            logits = model.logits(model.decode(x0_pred, memory, mem_mask))
            trajectory.append(tokens(model, logits)[0].view(B, k, L))
            timesteps.append(t)
        if t_prev >= 0:
            x = model.scheduler.step(project_x0(model, x0_pred, memory, mem_mask, projection, logits), t, t_prev, x,
                                     eta=eta, generator=generator)
    if logits is None:
        logits = model.logits(model.decode(x0_pred, memory, mem_mask))
    if restart_t:
        if restarts < 1:
            raise ValueError(f"restarts must be >= 1 when restart_t is set, got {restarts}")
        _stop_if_asked(should_stop)
        r = restarts
        x0_pred, logits_r = x0_pred.repeat_interleave(r, 0), logits.repeat_interleave(r, 0)
        restarted = restart(model, x0_pred, memory, mem_mask, restart_t, projection, generator, logits_r)
        restarted = model.logits(model.decode(restarted, memory, mem_mask)).view(B, k * r, L, -1)
        if return_trajectory:   # the restart is one more frame: what the re-read estimates decode to
            trajectory.append(tokens(model, restarted[:, ::r].flatten(0, 1))[0].view(B, k, L))
            timesteps.append(restart_t)
        logits, k = torch.cat([logits.view(B, k, L, -1), restarted], 1).flatten(0, 1), k * (1 + r)
    ids, scores = tokens(model, logits, alternatives)
    n = k * (1 + alternatives)   # each draw's argmax, then its swap variants
    return SampleOutput(ids.reshape(B, n, L), scores.reshape(B, n), trajectory, timesteps)


@torch.inference_mode()
def display_trajectory(model, states: torch.Tensor, mask: torch.Tensor, noise: torch.Tensor, steps: int,
                       projection: str | None = None, neighbour_ids: torch.Tensor | None = None,
                       should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[int, torch.Tensor]]:
    """The denoising of the draws `noise` [N, L, E] (x_T) over `steps` DDIM steps, one request (B = 1),
    for showing: yields (t, ids [N, L]) for x_T and then after every step (t = that step's t_prev), computed
    lazily step by step; with `steps` = 1 only the one-step reading.

    The frame of a step is what the sampler's latent x_{t_prev} spells: its nearest code embedding at
    every position (the tied head's reading without the decoder), so the first frames are the noise
    itself and tokens settle as the signal share sqrt(alpha_bar) grows; the last step (t_prev = -1) yields
    the tokens the decoder reads from the final x0 estimate, as `sample` decodes them. The x0 estimates
    of a CF model hardly change between steps (it samples in one step), so its frames are its answer
    coming out of the noise it was drawn from, not a different answer."""
    projection = resolve_projection(model, None, projection)
    memory, mem_mask = model.with_neighbours(model.project_source(states), mask, neighbour_ids)
    emb = model.embedding_matrix()
    x, x0_prev, N = noise, None, noise.shape[0]
    schedule = model.scheduler.set_timesteps(steps)
    if len(schedule) > 1:   # the draws as they start: pure noise
        yield schedule[0][0], _pad_after_first_pad((x @ emb.t()).argmax(-1))
    for t, t_prev in schedule:
        _stop_if_asked(should_stop)
        tt = torch.full((N,), t, dtype=torch.long, device=x.device)
        x0_pred, _ = model.predict_x0(x, tt, memory, mem_mask, x0_prev)
        x0_prev = x0_pred if model.denoiser.self_cond is not None else None
        logits = model.logits(model.decode(x0_pred, memory, mem_mask))
        if t_prev < 0:
            yield t_prev, tokens(model, logits)[0]
            return
        x = model.scheduler.step(project_x0(model, x0_pred, memory, mem_mask, projection, logits), t, t_prev, x)
        yield t_prev, _pad_after_first_pad((x @ emb.t()).argmax(-1))


def cut_at_first_pad(ids: torch.Tensor, logp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ids [..., L] -> (ids with every position after the first pad set to pad, mean log-prob of the kept
    positions under logp [..., L, V])."""
    ids = _pad_after_first_pad(ids)
    is_pad = ids == PAD_ID
    keep = (~((is_pad.cumsum(-1) - is_pad.long()) > 0)).float()
    token_logp = logp.gather(-1, ids[..., None]).squeeze(-1)
    return ids, (token_logp * keep).sum(-1) / keep.sum(-1)


def _pad_after_first_pad(ids: torch.Tensor) -> torch.Tensor:
    is_pad = ids == PAD_ID
    return ids.masked_fill((is_pad.cumsum(-1) - is_pad.long()) > 0, PAD_ID)


def swap_variants(logp: torch.Tensor, ids: torch.Tensor, n: int) -> torch.Tensor:
    """The n most likely other readings [N, n, L] of each argmax sequence ids [N, L] when every position
    may keep its argmax or take its runner-up token: variant i swaps a set of positions (up to the first
    pad), and the sets are the n with the smallest summed top-2 margin (the log-prob a swap costs).

    From one sample the head only shows its argmax, yet where it hesitates ("GreaterThan" or
    "GreaterThanOrEqual", column 1 or 2) its runner-up is a meaningful other reading of the request,
    and where it hesitates twice ("AND ... LessThanEqual" against "OR ... GreaterThan") only a joint
    swap of both reaches the other reading. Noise draws of a small model often land on the same argmax,
    so these variants are what makes k candidates differ; the grammar check and the ranking then drop
    or demote the bad ones. Sets are drawn from the min(n, SWAP_POSITIONS) least-sure positions, which
    is exact for n <= SWAP_POSITIONS: any set holding a less hesitant position costs more than n singles."""
    top2 = logp.topk(2, dim=-1)
    is_pad = ids == PAD_ID
    in_code = (is_pad.cumsum(-1) - is_pad.long()) == 0            # real tokens and the first pad
    margin = (top2.values[..., 0] - top2.values[..., 1]).masked_fill(~in_code, 1e4)
    m = min(n, SWAP_POSITIONS, ids.shape[1])
    margins, positions = margin.topk(m, dim=-1, largest=False)    # [N, m], least sure first
    subsets = _swap_sets(m, ids.device)                            # [S, m], S = 2^m - 1
    cost = margins @ subsets.T.float()                             # [N, S]
    chosen = subsets[cost.topk(min(n, subsets.shape[0]), dim=-1, largest=False).indices]   # [N, n', m]
    runner_up = top2.indices[..., 1].gather(1, positions)          # [N, m]
    keep = ids.gather(1, positions)
    values = torch.where(chosen, runner_up[:, None], keep[:, None])
    variants = ids[:, None, :].repeat(1, chosen.shape[1], 1)
    variants.scatter_(2, positions[:, None].expand(-1, chosen.shape[1], -1), values)
    if variants.shape[1] < n:                                      # fewer sets than asked: repeat the argmax
        variants = torch.cat([variants, ids[:, None].expand(-1, n - variants.shape[1], -1)], 1)
    return variants


def _swap_sets(m: int, device) -> torch.Tensor:
    """Every non-empty subset of m positions as a boolean mask [2^m - 1, m]."""
    codes = torch.arange(1, 2 ** m, device=device)
    return (codes[:, None] >> torch.arange(m, device=device)) & 1 == 1
