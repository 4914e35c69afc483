"""CodeFusion: code embedding, denoiser, decoder and classification head.

    request states --(source_proj)--> memory
    code ids --(embedding)--> x0 --(scheduler.add_noise)--> x_t
    x_t, t, memory --(Denoiser)--> x0_pred          self-attention over code + cross-attention to memory
    x0_pred, memory --(Decoder)--> h                self-attention over denoised embeddings + cross-attention
    h --(head)--> logits --argmax--> tokens, cut at the first [PAD]

Code embeddings have a fixed norm sqrt(embed_dim) (unit variance per coordinate, matching the N(0, I)
noise) and only their directions are learned: the x0 regression can then not shrink them towards
each other (the collapse Diffusion-LM counters with its rounding loss).

The head is tied to the embedding: logits are scaled dot products of the decoder state h (in embedding
space) with every code embedding. Because all embeddings have the same norm, the token with the largest
logit is the embedding nearest to h, so the decoder's L2 loss (h towards E(y)) and its cross-entropy
pull in the same direction, and the head costs no extra vocab x dim weights.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .scheduler import DiffusionScheduler, clamp_to_embeddings
from .tokenizer import PAD_ID


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps, [B] -> [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return F.pad(emb, (0, dim % 2))


def _transformer_stack(cfg: ModelConfig, layers: int) -> nn.TransformerDecoder:
    # Pre-norm layers with self-attention (no causal mask: every position sees every other) and cross-attention.
    layer = nn.TransformerDecoderLayer(cfg.d_model, cfg.n_heads, cfg.ff_mult * cfg.d_model, cfg.dropout,
                                       activation="gelu", batch_first=True, norm_first=True)
    return nn.TransformerDecoder(layer, layers, norm=nn.LayerNorm(cfg.d_model))


def run_stack(stack: nn.TransformerDecoder, h: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor):
    """stack(h, memory) where memory [B, S, D] may hold one row per request and the N rows of h [N, L, D] are
    grouped by request (N // B each, as sampling lays out k draws): the same result as repeating the memory
    N // B times, but each request's cross-attention keys and values are computed once instead of once per
    draw (a fifth of a sampling pass with 30 draws). Training passes one memory row per row of h."""
    if memory.shape[0] == h.shape[0] or stack.training:
        reps = h.shape[0] // memory.shape[0]
        return stack(h, memory.repeat_interleave(reps, 0),
                     memory_key_padding_mask=~memory_mask.repeat_interleave(reps, 0))
    for layer in stack.layers:   # the pre-norm TransformerDecoderLayer of _transformer_stack, unrolled
        h = h + layer._sa_block(layer.norm1(h), None, None)
        h = h + _shared_cross_attention(layer.multihead_attn, layer.norm2(h), memory, memory_mask)
        h = h + layer._ff_block(layer.norm3(h))
    return stack.norm(h)


def _shared_cross_attention(attn: nn.MultiheadAttention, h, memory, memory_mask):
    """Cross-attention of h [N, L, D] to memory [B, S, D] shared by N // B consecutive rows: the rows of a
    request attend independently, so they are laid end to end as one query sequence."""
    (B, S, D), (N, L, _), H = memory.shape, h.shape, attn.num_heads
    w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
    b_q, b_k, b_v = attn.in_proj_bias.chunk(3)
    q = F.linear(h, w_q, b_q).reshape(B, N // B * L, H, D // H).transpose(1, 2)
    k = F.linear(memory, w_k, b_k).reshape(B, S, H, D // H).transpose(1, 2)
    v = F.linear(memory, w_v, b_v).reshape(B, S, H, D // H).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=memory_mask[:, None, None, :])
    return attn.out_proj(out.transpose(1, 2).reshape(N, L, D))


class Denoiser(nn.Module):
    """Predicts x0 (or the noise) from x_t, the timestep and the request memory."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.inp = nn.Linear(cfg.embed_dim, cfg.d_model)
        self.pos = nn.Parameter(torch.randn(cfg.max_code_len, cfg.d_model) * 0.02)
        self.time_mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_model), nn.SiLU(), nn.Linear(cfg.d_model, cfg.d_model))
        self.stack = _transformer_stack(cfg, cfg.denoiser_layers)
        self.out = nn.Linear(cfg.d_model, cfg.embed_dim)
        self.d_model = cfg.d_model

    def forward(self, x_t, t, memory, memory_mask):
        L = x_t.shape[1]
        h = self.inp(x_t) + self.pos[:L] + self.time_mlp(timestep_embedding(t, self.d_model))[:, None, :]
        return self.out(run_stack(self.stack, h, memory, memory_mask))


class Decoder(nn.Module):
    """Maps denoised embeddings to states in embedding space, from which the head reads tokens."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.inp = nn.Linear(cfg.embed_dim, cfg.d_model)
        self.pos = nn.Parameter(torch.randn(cfg.max_code_len, cfg.d_model) * 0.02)
        self.stack = _transformer_stack(cfg, cfg.decoder_layers)
        self.out = nn.Linear(cfg.d_model, cfg.embed_dim)

    def forward(self, x0_pred, memory, memory_mask):
        L = x0_pred.shape[1]
        return self.out(run_stack(self.stack, self.inp(x0_pred) + self.pos[:L], memory, memory_mask))


@dataclass
class SampleOutput:
    ids: torch.Tensor                 # [B, k, L] token ids, everything after the first [PAD] set to [PAD]
    scores: torch.Tensor              # [B, k] mean log-prob of the chosen tokens (up to and with the first [PAD])
    trajectory: list | None = None    # per sampling step: [B, k, L] ids decoded from that step's x0 estimate
    timesteps: list | None = None     # the t of each sampling step


class CodeFusion(nn.Module):
    def __init__(self, cfg: ModelConfig, encoder_dim: int):
        super().__init__()
        if cfg.vocab_size <= 0:
            raise ValueError("ModelConfig.vocab_size is unset: train the code tokenizer first and set it")
        self.cfg = cfg
        self.scheduler = DiffusionScheduler(cfg.diffusion_steps, cfg.schedule_offset)  # no parameters
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embed_dim)
        nn.init.normal_(self.embedding.weight)
        self.source_proj = nn.Sequential(nn.Linear(encoder_dim, cfg.d_model), nn.LayerNorm(cfg.d_model))
        self.denoiser = Denoiser(cfg)
        self.decoder = Decoder(cfg)
        self.logit_scale = nn.Parameter(torch.tensor(1.0))
        self.logit_bias = nn.Parameter(torch.zeros(cfg.vocab_size))

    # -- building blocks ----------------------------------------------------------------
    def embedding_matrix(self) -> torch.Tensor:
        """All code embeddings, each of norm sqrt(embed_dim)."""
        return F.normalize(self.embedding.weight, dim=-1) * math.sqrt(self.cfg.embed_dim)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.embedding_matrix())

    def project_source(self, states: torch.Tensor) -> torch.Tensor:
        return self.source_proj(states)

    def noise_memory(self, batch: int, generator=None, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """A Gaussian "noise encoding" standing in for a request (unconditional pretraining)."""
        mem = torch.randn(batch, self.cfg.noise_encoding_len, self.cfg.d_model, generator=generator, device=device)
        return mem, torch.ones(batch, self.cfg.noise_encoding_len, dtype=torch.bool, device=device)

    def predict_x0(self, x_t, t, memory, memory_mask) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (x0_pred, raw denoiser output); the raw output is the noise estimate in "noise" mode."""
        raw = self.denoiser(x_t, t, memory, memory_mask)
        if self.cfg.predict == "noise":
            return self.scheduler.x0_from_noise(x_t, raw, t), raw
        return raw, raw

    def decode(self, x0_pred, memory, memory_mask) -> torch.Tensor:
        return self.decoder(x0_pred, memory, memory_mask)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return h @ self.embedding_matrix().t() * (self.logit_scale / math.sqrt(self.cfg.embed_dim)) + self.logit_bias

    # -- training -----------------------------------------------------------------------
    def forward(self, ids, memory, memory_mask, t, noise) -> dict:
        """One denoising pass for training. `memory` is already projected (see project_source)."""
        x0 = self.embed(ids)
        x_t = self.scheduler.add_noise(x0, noise, t)
        x0_pred, raw = self.predict_x0(x_t, t, memory, memory_mask)
        h = self.decode(x0_pred, memory, memory_mask)
        return {"x0": x0, "x_t": x_t, "x0_pred": x0_pred, "raw": raw, "noise": noise,
                "dec_states": h, "logits": self.logits(h)}

    # -- generation ---------------------------------------------------------------------
    def _tokens(self, logits, alternatives: int = 0):
        """Argmax tokens of head logits [N, L, V] cut at the first pad, and their mean log-prob. With
        `alternatives` = n, each sequence is followed by n variants (ids [N, 1 + n, L]), see swap_variants."""
        logp = logits.log_softmax(-1)
        ids = logp.argmax(-1)
        if alternatives:
            ids = torch.cat([ids[:, None], swap_variants(logp, ids, alternatives)], 1)
            logp = logp[:, None].expand(-1, ids.shape[1], -1, -1)
        return cut_at_first_pad(ids, logp)

    PROJECTIONS = ("none", "clamp", "sphere", "soft")

    def project_x0(self, x0_pred, memory, memory_mask, how: str, logits: torch.Tensor | None = None) -> torch.Tensor:
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
            return F.normalize(x0_pred, dim=-1) * math.sqrt(self.cfg.embed_dim)
        emb = self.embedding_matrix()
        if how == "clamp":
            return clamp_to_embeddings(x0_pred, emb)
        if how == "soft":
            if logits is None:
                logits = self.logits(self.decode(x0_pred, memory, memory_mask))
            return logits.softmax(-1) @ emb
        raise ValueError(f"unknown x0 projection {how!r}; choose one of {self.PROJECTIONS}")

    def restart(self, x0_pred, memory, memory_mask, t: int, projection: str, generator=None,
                logits: torch.Tensor | None = None) -> torch.Tensor:
        """One restart (restart sampling, Xu et al. 2023): noise the final estimate back to step t with fresh
        noise and denoise it once more.

        At one sampling step the estimate from pure noise hardly depends on the noise (the denoiser has
        learned that x_T carries no signal), so k draws mostly agree. Restarted from t < T, the estimate's
        confident tokens survive the fresh noise and its hesitant ones are re-read: another sample from the
        model, near the first, that can differ in structure (`NOT(Blanks(c[2]))` against
        `TextEquals(c[2], <STR0>)`), which a token swap cannot reach."""
        if not 0 < t < self.scheduler.num_train_steps:
            raise ValueError(f"restart_t must be between 1 and {self.scheduler.num_train_steps - 1}, got {t}")
        x0 = self.project_x0(x0_pred, memory, memory_mask, projection, logits)
        noise = torch.randn(x0.shape, generator=generator).to(x0.device)
        tt = torch.full((x0.shape[0],), t, dtype=torch.long, device=x0.device)
        return self.predict_x0(self.scheduler.add_noise(x0, noise, tt), tt, memory, memory_mask)[0]

    @torch.inference_mode()
    def sample(self, states: torch.Tensor, mask: torch.Tensor, k: int = 5, steps: int | None = None,
               generator: torch.Generator | None = None, eta: float = 0.0, return_trajectory: bool = False,
               clamp: bool | None = None, projection: str | None = None, alternatives: int = 0,
               restart_t: int = 0, restarts: int = 1) -> SampleOutput:
        """Generate k candidates per request from k independent noise draws, all in one batch.

        states/mask: raw encoder output [B, S, H] / [B, S] (projection happens here).
        The final tokens are decoded from the last raw x0 estimate; `projection` (default: the config's
        x0_projection, or "clamp" when clamp/clamp_sampling is set) only shapes what the next step sees.
        `alternatives` = n adds n swap variants after each draw (see swap_variants): ids [B, k * (1 + n), L].
        `restart_t` > 0 restarts each draw `restarts` times (see restart) and adds those k * restarts draws
        after the k draws: ids [B, k * (1 + restarts) * (1 + n), L]; the trajectory gets one more frame, at
        t = restart_t, with the first k restarted draws."""
        steps = steps or self.cfg.sampling_steps
        clamp = self.cfg.clamp_sampling if clamp is None else clamp
        projection = projection or ("clamp" if clamp else getattr(self.cfg, "x0_projection", "none"))
        B, L, device = states.shape[0], self.cfg.max_code_len, states.device
        if not 0 <= alternatives <= L:
            raise ValueError(f"alternatives must be between 0 and max_code_len={L}, got {alternatives}")
        memory, mem_mask = self.project_source(states), mask   # one row per request, shared by its draws (run_stack)
        x = torch.randn(B * k, L, self.cfg.embed_dim, generator=generator).to(device)
        trajectory, timesteps = ([], []) if return_trajectory else (None, None)
        x0_pred = x
        for t, t_prev in self.scheduler.set_timesteps(steps):
            tt = torch.full((B * k,), t, dtype=torch.long, device=device)
            x0_pred, _ = self.predict_x0(x, tt, memory, mem_mask)
            logits = None   # the head's reading of this estimate: one decoder pass serves the frame and the projection
            if return_trajectory:
                logits = self.logits(self.decode(x0_pred, memory, mem_mask))
                trajectory.append(self._tokens(logits)[0].view(B, k, L))
                timesteps.append(t)
            if t_prev >= 0:
                x = self.scheduler.step(self.project_x0(x0_pred, memory, mem_mask, projection, logits), t, t_prev, x,
                                        eta=eta, generator=generator)
        if logits is None:
            logits = self.logits(self.decode(x0_pred, memory, mem_mask))
        if restart_t:
            if restarts < 1:
                raise ValueError(f"restarts must be >= 1 when restart_t is set, got {restarts}")
            r = restarts
            x0_pred, logits_r = x0_pred.repeat_interleave(r, 0), logits.repeat_interleave(r, 0)
            restarted = self.restart(x0_pred, memory, mem_mask, restart_t, projection, generator, logits_r)
            restarted = self.logits(self.decode(restarted, memory, mem_mask)).view(B, k * r, L, -1)
            if return_trajectory:   # the restart is one more frame: what the re-read estimates decode to
                trajectory.append(self._tokens(restarted[:, ::r].flatten(0, 1))[0].view(B, k, L))
                timesteps.append(restart_t)
            logits, k = torch.cat([logits.view(B, k, L, -1), restarted], 1).flatten(0, 1), k * (1 + r)
        ids, scores = self._tokens(logits, alternatives)
        n = k * (1 + alternatives)   # each draw's argmax, then its swap variants
        return SampleOutput(ids.reshape(B, n, L), scores.reshape(B, n), trajectory, timesteps)


def cut_at_first_pad(ids: torch.Tensor, logp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ids [..., L] -> (ids with every position after the first pad set to pad, mean log-prob of the kept
    positions under logp [..., L, V])."""
    is_pad = ids == PAD_ID
    after_first_pad = (is_pad.cumsum(-1) - is_pad.long()) > 0
    ids = ids.masked_fill(after_first_pad, PAD_ID)
    keep = (~after_first_pad).float()
    token_logp = logp.gather(-1, ids[..., None]).squeeze(-1)
    return ids, (token_logp * keep).sum(-1) / keep.sum(-1)


SWAP_POSITIONS = 8    # swap variants combine runner-ups among at most this many least-sure positions


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


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
