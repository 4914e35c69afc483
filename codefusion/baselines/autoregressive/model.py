"""The autoregressive baseline's network: an encoder-decoder transformer that writes code left to right.

Request states -> (projection, encoder layers) -> memory; a causal decoder with cross-attention reads
[BOS] + code and predicts code + [EOS] (teacher forcing). Keys and values are computed apart from the
queries, so decoding (decoding.py) can cache them.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ...config import MINILM_ENCODER, ModelConfig
from ...tokenizer import BOS_ID, EOS_ID, MASK_ID, PAD_ID, UNK_ID
from . import decoding
from .decoding import Decoded

IGNORE = -100                                   # cross-entropy label of positions after [EOS]
NEVER_GENERATED = (PAD_ID, UNK_ID, BOS_ID, MASK_ID)   # the decoder ends a sequence with [EOS] only


# ----------------------------------------------------------------------------------------------
# configuration

@dataclass
class ARConfig:
    vocab_size: int = 0
    max_code_len: int = 32          # decoder positions: [BOS] + code, and code + [EOS]; same targets as CodeFusion
    d_model: int = 256
    n_heads: int = 4
    encoder_layers: int = 2         # trainable layers over the (projected) request encoder states
    decoder_layers: int = 4         # causal self-attention + cross-attention
    ff_mult: int = 4
    dropout: float = 0.1
    # the request encoder, named as in ModelConfig (codefusion.encoders.build_encoder reads these fields)
    encoder: str = MINILM_ENCODER
    encoder_trainable: bool = False
    encoder_max_len: int = 64
    scratch_encoder_dim: int = 256
    scratch_encoder_layers: int = 2
    scratch_encoder_vocab: int = 2000

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"ARConfig.d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        if self.decoder_layers < 1 or self.encoder_layers < 0:
            raise ValueError(f"ARConfig needs decoder_layers >= 1 and encoder_layers >= 0, got "
                             f"{self.decoder_layers} / {self.encoder_layers}")
        if self.max_code_len < 2:
            raise ValueError(f"ARConfig.max_code_len={self.max_code_len} must be at least 2 (a token and [EOS])")

    @classmethod
    def matching(cls, m: ModelConfig) -> "ARConfig":
        """The AR network sized like a CodeFusion config: same width/heads/FF, its layer count split
        one third encoder / two thirds decoder."""
        total = m.denoiser_layers + m.decoder_layers
        enc = max(1, total // 3) if total > 1 else 0
        return cls(vocab_size=m.vocab_size, max_code_len=m.max_code_len, d_model=m.d_model, n_heads=m.n_heads,
                   encoder_layers=enc, decoder_layers=max(1, total - enc), ff_mult=m.ff_mult, dropout=m.dropout,
                   encoder=m.encoder, encoder_trainable=m.encoder_trainable, encoder_max_len=m.encoder_max_len,
                   scratch_encoder_dim=m.scratch_encoder_dim, scratch_encoder_layers=m.scratch_encoder_layers,
                   scratch_encoder_vocab=m.scratch_encoder_vocab)


def dataclass_from(cls, values: dict | None):
    """Build a config from JSON, ignoring keys this version does not know."""
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in (values or {}).items() if k in known})


# ----------------------------------------------------------------------------------------------
# the network

class Attention(nn.Module):
    """Multi-head attention whose keys/values are computed separately, so they can be cached."""

    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.query = nn.Linear(d_model, d_model)
        self.key_value = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def _split(self, x):                     # [N, T, D] -> [N, H, T, D/H]
        N, T, D = x.shape
        return x.view(N, T, self.heads, D // self.heads).transpose(1, 2)

    def keys_values(self, x):
        k, v = self.key_value(x).chunk(2, dim=-1)
        return self._split(k), self._split(v)

    def forward(self, x, k, v, mask=None, causal: bool = False):
        """mask: [N, 1, 1, S] bool, True where a key may be attended."""
        q = self._split(self.query(x))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        N, H, T, Dh = y.shape
        return self.out(y.transpose(1, 2).reshape(N, T, H * Dh))


def _feed_forward(cfg: ARConfig) -> nn.Sequential:
    return nn.Sequential(nn.Linear(cfg.d_model, cfg.ff_mult * cfg.d_model), nn.GELU(),
                         nn.Linear(cfg.ff_mult * cfg.d_model, cfg.d_model), nn.Dropout(cfg.dropout))


class EncoderLayer(nn.Module):
    """Pre-norm bidirectional self-attention + feed-forward over the request states."""

    def __init__(self, cfg: ARConfig):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg.d_model, cfg.n_heads, cfg.dropout)
        self.ff = _feed_forward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, mask):
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, *self.attn.keys_values(h), mask=mask))
        return x + self.ff(self.norm2(x))


class DecoderLayer(nn.Module):
    """Pre-norm causal self-attention, cross-attention to the request, feed-forward."""

    def __init__(self, cfg: ARConfig):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(cfg.d_model) for _ in range(3))
        self.self_attn = Attention(cfg.d_model, cfg.n_heads, cfg.dropout)
        self.cross_attn = Attention(cfg.d_model, cfg.n_heads, cfg.dropout)
        self.ff = _feed_forward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cross_kv, cross_mask, cache: dict | None = None):
        """Without `cache`: the whole sequence at once, causally masked (training). With it: `x` is the
        next position only, and the keys/values of earlier positions come from (and go to) `cache`."""
        h = self.norm1(x)
        k, v = self.self_attn.keys_values(h)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        x = x + self.drop(self.self_attn(h, k, v, causal=cache is None))
        x = x + self.drop(self.cross_attn(self.norm2(x), *cross_kv, mask=cross_mask))
        return x + self.ff(self.norm3(x))


class Seq2SeqTransformer(nn.Module):
    """Request states -> (projection, encoder layers) -> memory; causal decoder with cross-attention -> code.
    The output head is tied to the token embedding."""

    def __init__(self, cfg: ARConfig, encoder_dim: int):
        super().__init__()
        if cfg.vocab_size <= 0:
            raise ValueError("ARConfig.vocab_size is unset: train the code tokenizer first and set it")
        self.cfg = cfg
        self.source_proj = nn.Sequential(nn.Linear(encoder_dim, cfg.d_model), nn.LayerNorm(cfg.d_model))
        self.encoder_layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.encoder_layers))
        self.encoder_norm = nn.LayerNorm(cfg.d_model)
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.position_embedding = nn.Embedding(cfg.max_code_len, cfg.d_model)
        self.decoder_layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.decoder_layers))
        self.final_norm = nn.LayerNorm(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    # -- pieces ---------------------------------------------------------------------------
    def encode(self, states, mask):
        """Raw request-encoder output [B, S, H] / [B, S] -> (memory [B, S, D], attention mask [B, 1, 1, S])."""
        attn_mask = mask[:, None, None, :]
        x = self.source_proj(states)
        for layer in self.encoder_layers:
            x = layer(x, attn_mask)
        return self.encoder_norm(x), attn_mask

    def cross_keys_values(self, memory):
        return [layer.cross_attn.keys_values(memory) for layer in self.decoder_layers]

    def _head(self, x):
        return self.final_norm(x) @ self.token_embedding.weight.t()

    def _embed(self, ids, start: int = 0):
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        return self.drop(self.token_embedding(ids) + self.position_embedding(positions))

    # -- training -------------------------------------------------------------------------
    def forward(self, states, mask, ids):
        """Teacher-forced logits [B, T, V] for targets `ids` ([B, L], [PAD]-padded code ids); T = longest + 1."""
        inputs, _ = teacher_forcing(ids)
        memory, attn_mask = self.encode(states, mask)
        x = self._embed(inputs)
        for layer, kv in zip(self.decoder_layers, self.cross_keys_values(memory)):
            x = layer(x, kv, attn_mask)
        return self._head(x)

    def loss(self, states, mask, ids) -> torch.Tensor:
        """Mean token cross-entropy of code + [EOS] given [BOS] + code."""
        logits = self(states, mask, ids)
        _, labels = teacher_forcing(ids)
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE)

    # -- generation -----------------------------------------------------------------------
    def start_decoding(self, states, mask, k: int):
        memory, attn_mask = self.encode(states, mask)
        memory, attn_mask = memory.repeat_interleave(k, 0), attn_mask.repeat_interleave(k, 0)
        return self.cross_keys_values(memory), attn_mask, [{} for _ in self.decoder_layers]

    def next_log_probs(self, last_tokens, position: int, cross, attn_mask, caches):
        """Log-probs [N, V] of the token at `position + 1` given the token at `position`."""
        x = self._embed(last_tokens[:, None], start=position)
        for layer, kv, cache in zip(self.decoder_layers, cross, caches):
            x = layer(x, kv, attn_mask, cache)
        logp = self._head(x)[:, -1].float().log_softmax(-1)
        logp[:, list(NEVER_GENERATED)] = -math.inf
        if position == 0:
            logp[:, EOS_ID] = -math.inf            # no empty code
        return logp

    def beam_search(self, states, mask, k: int = 5, max_len: int | None = None) -> Decoded:
        """k best sequences per request by beam search with k beams, ranked by mean log-prob (decoding.py)."""
        return decoding.beam_search(self, states, mask, k, max_len)

    def sample(self, states, mask, k: int = 5, generator: torch.Generator | None = None,
               temperature: float = 1.0, top_p: float = 1.0, max_len: int | None = None) -> Decoded:
        """k independent samples per request, temperature / nucleus (decoding.py)."""
        return decoding.sample(self, states, mask, k, generator, temperature, top_p, max_len)


def teacher_forcing(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[PAD]-padded code ids [B, L] -> (decoder inputs [BOS] + code, labels code + [EOS] then IGNORE),
    both [B, T] with T = longest code + 1 (<= L: a target always leaves room for its end)."""
    lengths = (ids != PAD_ID).sum(1)
    T = min(int(lengths.max()) + 1, ids.shape[1])
    rows = torch.arange(ids.shape[0], device=ids.device)
    inputs = torch.cat([torch.full((ids.shape[0], 1), BOS_ID, dtype=ids.dtype, device=ids.device), ids[:, :T - 1]], dim=1)
    labels = torch.full((ids.shape[0], T + 1), IGNORE, dtype=ids.dtype, device=ids.device)
    labels[:, :T] = ids[:, :T].masked_fill(ids[:, :T] == PAD_ID, IGNORE)
    labels[rows, lengths] = EOS_ID
    return inputs, labels[:, :T]


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

