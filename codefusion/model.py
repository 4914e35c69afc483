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
from . import sampling
from .sampling import SampleOutput, cut_at_first_pad, swap_variants  # noqa: F401  (re-exported)
from .scheduler import DiffusionScheduler
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
        # Self-conditioning: the previous x0 estimate enters through its own projection, zero at first, so a
        # model trained without it computes the same function when this part is added.
        self.self_cond = None
        if getattr(cfg, "self_condition", False):
            self.self_cond = nn.Linear(cfg.embed_dim, cfg.d_model)
            nn.init.zeros_(self.self_cond.weight)
            nn.init.zeros_(self.self_cond.bias)

    def forward(self, x_t, t, memory, memory_mask, x0_prev=None):
        L = x_t.shape[1]
        h = self.inp(x_t) + self.pos[:L] + self.time_mlp(timestep_embedding(t, self.d_model))[:, None, :]
        if self.self_cond is not None:   # no previous estimate reads as zeros, as in training
            h = h + self.self_cond(torch.zeros_like(x_t) if x0_prev is None else x0_prev)
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


class NeighbourMemory(nn.Module):
    """The codes of a request's m nearest train pairs as extra memory rows (retrieval augmentation).

    Each neighbour code [m, L] ids is embedded with the model's own (clean) code embeddings, projected to
    d_model, and marked with its position and its neighbour rank; its real tokens and its first pad
    become memory rows after the request's. Denoiser and decoder then cross-attend to both, so the
    model can copy a neighbour's program and edit it towards the request."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(cfg.embed_dim, cfg.d_model), nn.LayerNorm(cfg.d_model))
        self.pos = nn.Parameter(torch.randn(cfg.max_code_len, cfg.d_model) * 0.02)
        self.rank = nn.Parameter(torch.randn(cfg.neighbours, cfg.d_model) * 0.02)

    def forward(self, code_embeddings: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """code_embeddings [B, m, L, E] of ids [B, m, L] -> (memory [B, m * L', D], mask [B, m * L']), with L' the
        longest neighbour in the batch (trailing pads carry nothing)."""
        B, m, L = ids.shape
        is_pad = ids == PAD_ID
        keep = (is_pad.cumsum(-1) - is_pad.long()) == 0          # real tokens and the first pad
        width = max(1, int(keep.sum(-1).max()))
        h = self.proj(code_embeddings[:, :, :width]) + self.pos[:width] + self.rank[:m, None, :]
        return h.reshape(B, m * width, -1), keep[:, :, :width].reshape(B, m * width)


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
        self.neighbour_memory = NeighbourMemory(cfg) if getattr(cfg, "neighbours", 0) else None

    # -- building blocks ----------------------------------------------------------------
    def embedding_matrix(self) -> torch.Tensor:
        """All code embeddings, each of norm sqrt(embed_dim)."""
        return F.normalize(self.embedding.weight, dim=-1) * math.sqrt(self.cfg.embed_dim)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.embedding_matrix())

    def project_source(self, states: torch.Tensor) -> torch.Tensor:
        return self.source_proj(states)

    def with_neighbours(self, memory, memory_mask, neighbour_ids):
        """memory/mask with the neighbours' code rows appended (unchanged when the model has no neighbour
        memory or `neighbour_ids` [B, m, L] is None); memory has one row per request or per training row."""
        if self.neighbour_memory is None or neighbour_ids is None:
            return memory, memory_mask
        rows, rows_mask = self.neighbour_memory(self.embed(neighbour_ids), neighbour_ids)
        return (torch.cat([memory, rows.to(memory.dtype)], 1),
                torch.cat([memory_mask, rows_mask.to(memory_mask.device)], 1))

    def noise_memory(self, batch: int, generator=None, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """A Gaussian "noise encoding" standing in for a request (unconditional pretraining)."""
        mem = torch.randn(batch, self.cfg.noise_encoding_len, self.cfg.d_model, generator=generator, device=device)
        return mem, torch.ones(batch, self.cfg.noise_encoding_len, dtype=torch.bool, device=device)

    def predict_x0(self, x_t, t, memory, memory_mask, x0_prev=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (x0_pred, raw denoiser output); the raw output is the noise estimate in "noise" mode.
        `x0_prev`: the previous estimate, read by a self-conditioned denoiser (None: zeros, i.e. none)."""
        raw = self.denoiser(x_t, t, memory, memory_mask, x0_prev)
        if self.cfg.predict == "noise":
            return self.scheduler.x0_from_noise(x_t, raw, t), raw
        return raw, raw

    def decode(self, x0_pred, memory, memory_mask) -> torch.Tensor:
        return self.decoder(x0_pred, memory, memory_mask)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return h @ self.embedding_matrix().t() * (self.logit_scale / math.sqrt(self.cfg.embed_dim)) + self.logit_bias

    # -- training -----------------------------------------------------------------------
    def forward(self, ids, memory, memory_mask, t, noise, neighbour_ids=None, self_condition=None) -> dict:
        """One denoising pass for training. `memory` is already projected (see project_source).
        `neighbour_ids` [B, m, L]: codes of each row's nearest train pairs (the row itself excluded), for a
        model with neighbour memory. `self_condition` [B] bool: rows that first estimate x0 without a
        previous estimate and then see that estimate (gradient-free), as in Analog Bits; the others see none."""
        memory, memory_mask = self.with_neighbours(memory, memory_mask, neighbour_ids)
        x0 = self.embed(ids)
        x_t = self.scheduler.add_noise(x0, noise, t)
        x0_prev = None
        if self.denoiser.self_cond is not None and self_condition is not None and bool(self_condition.any()):
            with torch.no_grad():
                first = self.predict_x0(x_t, t, memory, memory_mask)[0]
            x0_prev = first.detach() * self_condition[:, None, None].to(first.dtype)
        x0_pred, raw = self.predict_x0(x_t, t, memory, memory_mask, x0_prev)
        h = self.decode(x0_pred, memory, memory_mask)
        return {"x0": x0, "x_t": x_t, "x0_pred": x0_pred, "raw": raw, "noise": noise,
                "dec_states": h, "logits": self.logits(h)}

    # -- generation (codefusion/sampling.py) ----------------------------------------------
    PROJECTIONS = sampling.PROJECTIONS

    def project_x0(self, x0_pred, memory, memory_mask, how: str, logits: torch.Tensor | None = None) -> torch.Tensor:
        return sampling.project_x0(self, x0_pred, memory, memory_mask, how, logits)

    def restart(self, x0_pred, memory, memory_mask, t: int, projection: str, generator=None,
                logits: torch.Tensor | None = None) -> torch.Tensor:
        return sampling.restart(self, x0_pred, memory, memory_mask, t, projection, generator, logits)

    def sample(self, states: torch.Tensor, mask: torch.Tensor, k: int = 5, **options) -> SampleOutput:
        """k candidates per request: see sampling.sample for the options."""
        return sampling.sample(self, states, mask, k, **options)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
