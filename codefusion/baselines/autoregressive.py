"""Autoregressive baseline: an encoder-decoder transformer that writes code left to right.

    python -m codefusion.baselines.autoregressive train --task cf [--config NAME] [--out DIR]
        [--max-steps N] [--time-limit MIN] [--data DIR] [--stage all|finetune] [--seed S] [--batch-size B]
    python -m codefusion.baselines.autoregressive generate --task cf "highlight sales under 500" [-k 5]
        [--table FILE] [--sample] [--checkpoint DIR]
    python -m codefusion.baselines.autoregressive params --task cf      # parameter counts, AR vs CodeFusion

    system = load_system("cf")                       # <repo>/checkpoints/ar-cf (or $CODEFUSION_CHECKPOINTS/ar-cf)
    system.generate("highlight sales under 500", table=rows, k=5)   # -> [Candidate(code, score)], best first

It is CodeFusion's comparison point, so everything except the decoding process is shared with it:
the task adapter (source text, literal placeholders, training pairs incl. `extra_training_pairs`,
postprocess, so CF candidates are grammar-checked), the frozen MiniLM request encoder with cached
encodings, the code tokenizer (trained by the same call on the same texts), the dev split, the step
plan (stage 1 paragraph denoising + unconditional code, stage 2 pairs), the LR schedule, the batch
draws and model selection (dev exact match, then dev loss). The network is sized from the task's
CodeFusion config: same width, heads and feed-forward size, and its layers (denoiser + decoder)
split into trainable encoder layers over the MiniLM states and causal decoder layers with
cross-attention, about one third / two thirds (cf-small: 2 + 4 layers; `params` prints both counts).

Training is teacher forcing: the decoder reads [BOS] + code and predicts code + [EOS]. Generation
is beam search (k beams, the default) or sampling (k independent samples), batched over requests
and beams with cached keys/values; a candidate's score is its mean token log-prob (with [EOS]).
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from ..config import (CONFIG_NAMES, DEFAULT_CONFIG_FOR_TASK, MINILM_ENCODER, ModelConfig, TrainConfig,
                      get_config)
from ..data import TASKS, load_records, resolve_data_dir, split_records
from ..encoders import EncodingCache, RequestEncoder, build_encoder
from ..generate import MAX_K, Candidate, default_checkpoint_dir
from ..tasks import get_task
from ..tasks.base import TaskAdapter, mask_identifiers
from ..tokenizer import BOS_ID, EOS_ID, MASK_ID, PAD_ID, UNK_ID, CodeTokenizer

__all__ = ["ARConfig", "Seq2SeqTransformer", "Decoded", "AutoregressiveSystem", "load_system", "fit",
           "FitResult", "build_pairs", "save_ar_checkpoint", "load_ar_checkpoint", "count_parameters", "main"]

CHECKPOINT_KIND = "autoregressive"
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


def _dataclass_from(cls, values: dict | None):
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


@dataclass
class Decoded:
    ids: torch.Tensor       # [B, k, L] code token ids, [PAD] after the end ([EOS] itself is kept)
    scores: torch.Tensor    # [B, k] mean log-prob of the generated tokens, [EOS] included; best first for beams


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
    def _start(self, states, mask, k: int):
        memory, attn_mask = self.encode(states, mask)
        memory, attn_mask = memory.repeat_interleave(k, 0), attn_mask.repeat_interleave(k, 0)
        return self.cross_keys_values(memory), attn_mask, [{} for _ in self.decoder_layers]

    def _next_log_probs(self, last_tokens, position: int, cross, attn_mask, caches):
        """Log-probs [N, V] of the token at `position + 1` given the token at `position`."""
        x = self._embed(last_tokens[:, None], start=position)
        for layer, kv, cache in zip(self.decoder_layers, cross, caches):
            x = layer(x, kv, attn_mask, cache)
        logp = self._head(x)[:, -1].float().log_softmax(-1)
        logp[:, list(NEVER_GENERATED)] = -math.inf
        if position == 0:
            logp[:, EOS_ID] = -math.inf            # no empty code
        return logp

    @torch.inference_mode()
    def beam_search(self, states, mask, k: int = 5, max_len: int | None = None) -> Decoded:
        """k best sequences per request by beam search with k beams, ranked by mean log-prob.

        Each step expands every live beam over the vocabulary and keeps the 2k best continuations by
        total log-prob; those that end with [EOS] become finished hypotheses, the best k others stay live.
        A request is done when it has k finished hypotheses and no live beam can still beat the k-th
        (a live beam's mean is at most its total / max_len, since every further token adds <= 0)."""
        L = min(max_len or self.cfg.max_code_len, self.cfg.max_code_len)
        B = states.shape[0]
        cross, attn_mask, caches = self._start(states, mask, k)
        beam_logp = torch.full((B, k), -math.inf)
        beam_logp[:, 0] = 0.0                      # all beams start equal: expand only the first
        tokens = torch.full((B * k,), BOS_ID, dtype=torch.long)
        sequences = torch.zeros(B * k, 0, dtype=torch.long)
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
        done = [False] * B
        V = self.cfg.vocab_size
        for position in range(L):
            logp = self._next_log_probs(tokens, position, cross, attn_mask, caches)
            total = (beam_logp.view(-1, 1) + logp).view(B, k * V)
            top, index = total.topk(min(2 * k, k * V), dim=-1)
            top, index = top.tolist(), index.tolist()
            new_logp = torch.full((B, k), -math.inf)
            new_source = torch.zeros(B, k, dtype=torch.long)
            new_token = torch.full((B, k), PAD_ID, dtype=torch.long)
            for b in range(B):
                if done[b]:
                    continue
                slot = 0
                for score, flat in zip(top[b], index[b]):
                    if score == -math.inf or slot == k:
                        break
                    beam, token = divmod(flat, V)
                    if token == EOS_ID:
                        finished[b].append((score / (position + 1), sequences[b * k + beam].tolist() + [EOS_ID]))
                    else:
                        new_logp[b, slot], new_source[b, slot], new_token[b, slot] = score, beam, token
                        slot += 1
                if len(finished[b]) >= k:
                    kth = sorted((s for s, _ in finished[b]), reverse=True)[k - 1]
                    done[b] = float(new_logp[b].max()) / L <= kth
                if done[b]:
                    new_logp[b] = -math.inf
            if all(done):
                break
            rows = (torch.arange(B)[:, None] * k + new_source).view(-1)
            sequences = torch.cat([sequences[rows], new_token.view(-1, 1)], dim=1)
            for cache in caches:
                cache["k"], cache["v"] = cache["k"][rows], cache["v"][rows]
            beam_logp, tokens = new_logp, new_token.view(-1)
        for b in range(B):   # too long for max_len: unfinished beams fill up what is missing, scored the same way
            if len(finished[b]) < k:
                for j in range(k):
                    if beam_logp[b, j] > -math.inf:
                        finished[b].append((float(beam_logp[b, j]) / L, sequences[b * k + j].tolist()))
        ids = torch.full((B, k, L), PAD_ID, dtype=torch.long)
        scores = torch.full((B, k), -math.inf)
        for b in range(B):
            for j, (score, seq) in enumerate(sorted(finished[b], key=lambda h: -h[0])[:k]):
                ids[b, j, :len(seq)] = torch.tensor(seq[:L], dtype=torch.long)
                scores[b, j] = score
        return Decoded(ids, scores)

    @torch.inference_mode()
    def sample(self, states, mask, k: int = 5, generator: torch.Generator | None = None,
               temperature: float = 1.0, top_p: float = 1.0, max_len: int | None = None) -> Decoded:
        """k independent samples per request (temperature / nucleus); scores are the mean log-prob
        of the sampled tokens under the model itself (temperature 1)."""
        if temperature <= 0 or not 0 < top_p <= 1:
            raise ValueError(f"sampling needs temperature > 0 and 0 < top_p <= 1, got {temperature}, {top_p}")
        L = min(max_len or self.cfg.max_code_len, self.cfg.max_code_len)
        B = states.shape[0]
        N = B * k
        cross, attn_mask, caches = self._start(states, mask, k)
        tokens = torch.full((N,), BOS_ID, dtype=torch.long)
        ids = torch.full((N, L), PAD_ID, dtype=torch.long)
        total, count = torch.zeros(N), torch.zeros(N)
        alive = torch.ones(N, dtype=torch.bool)
        for position in range(L):
            logp = self._next_log_probs(tokens, position, cross, attn_mask, caches)
            probs = (logp / temperature).softmax(-1)
            if top_p < 1.0:
                probs = _nucleus(probs, top_p)
            tokens = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            tokens = torch.where(alive, tokens, torch.full_like(tokens, PAD_ID))
            ids[:, position] = tokens
            chosen = logp.gather(1, tokens[:, None]).squeeze(1)
            total += torch.where(alive, chosen, torch.zeros_like(chosen))
            count += alive.float()
            alive &= tokens != EOS_ID
            if not alive.any():
                break
        return Decoded(ids.view(B, k, L), (total / count.clamp(min=1)).view(B, k))


def _nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose mass reaches top_p (the first always stays)."""
    sorted_p, order = probs.sort(-1, descending=True)
    drop = sorted_p.cumsum(-1) - sorted_p >= top_p
    sorted_p = sorted_p.masked_fill(drop, 0.0)
    return torch.zeros_like(probs).scatter(-1, order, sorted_p)


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


# ----------------------------------------------------------------------------------------------
# the System (what codefusion.evaluate calls)

class AutoregressiveSystem:
    """A trained AR model behind the evaluator's `System` protocol. Stateless while generating
    (each call makes its own random generator), so one instance can serve concurrent requests."""

    name = "autoregressive"

    def __init__(self, model: Seq2SeqTransformer, encoder: RequestEncoder, tokenizer: CodeTokenizer,
                 task: TaskAdapter, method: str = "beam", temperature: float = 1.0, top_p: float = 1.0,
                 seed: int | None = 0):
        if method not in ("beam", "sample"):
            raise ValueError(f"decoding method must be 'beam' or 'sample', got {method!r}")
        self.model = model.eval()
        self.encoder = encoder.eval()
        self.tokenizer = tokenizer
        self.task = task
        self.method = method
        self.temperature, self.top_p, self.seed = temperature, top_p, seed

    def decode_raw(self, requests: list[str], tables=None, k: int = 5, method: str | None = None,
                   seed: int | None = None) -> list[list[tuple[str, float]]]:
        """Per request, the k decoded codes with their scores as the model gives them (placeholders
        left in, no postprocessing), best first for beam search."""
        method = method or self.method
        if not 1 <= int(k) <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        if method not in ("beam", "sample"):
            raise ValueError(f"decoding method must be 'beam' or 'sample', got {method!r}")
        tables = tables if tables is not None else [None] * len(requests)
        if len(tables) != len(requests):
            raise ValueError(f"{len(requests)} requests but {len(tables)} tables")
        for request in requests:
            if not isinstance(request, str) or not request.strip():
                raise ValueError("every request must be a non-empty string")
        sources = [self.task.source_text(r, t) for r, t in zip(requests, tables)]
        with torch.inference_mode():
            states, mask = self.encoder(sources)
            if method == "beam":
                out = self.model.beam_search(states, mask, k=int(k))
            else:
                g = torch.Generator()
                seed = self.seed if seed is None else seed
                if seed is None:
                    g.seed()
                else:
                    g.manual_seed(int(seed))
                out = self.model.sample(states, mask, k=int(k), generator=g,
                                        temperature=self.temperature, top_p=self.top_p)
        return [[(self.tokenizer.decode(ids), float(s)) for ids, s in zip(out.ids[b], out.scores[b])
                 if s > -math.inf] for b in range(len(requests))]

    def generate_batch(self, requests: list[str], tables=None, k: int = 5, method: str | None = None,
                       seed: int | None = None) -> list[list[Candidate]]:
        tables = tables if tables is not None else [None] * len(requests)
        raw = self.decode_raw(requests, tables, k, method, seed)
        return [self.task.postprocess([c for c, _ in codes], [s for _, s in codes], request, table, k=int(k))[:int(k)]
                for codes, request, table in zip(raw, requests, tables)]

    def generate(self, request: str, table=None, k: int = 5, method: str | None = None,
                 seed: int | None = None) -> list[Candidate]:
        """Up to k candidates, best first, postprocessed by the task adapter (for cf: every code parses)."""
        return self.generate_batch([request], [table], k, method, seed)[0]


def load_system(task: str, checkpoint=None, method: str = "beam", **decoding) -> AutoregressiveSystem:
    """The AR system of a checkpoint dir (default <repo>/checkpoints/ar-<task>, or $CODEFUSION_CHECKPOINTS/ar-<task>)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    ck = load_ar_checkpoint(checkpoint or default_checkpoint_dir(f"ar-{task}"))
    if ck.task and ck.task != task:
        raise ValueError(f"autoregressive checkpoint {ck.directory} was trained for task {ck.task!r}, not {task!r}")
    return AutoregressiveSystem(ck.model, ck.encoder, ck.tokenizer, get_task(task), method, **decoding)


# ----------------------------------------------------------------------------------------------
# checkpoints: model.safetensors, config.json, tokenizer.json (+ encoder_tokenizer.json for a scratch encoder)

ENCODER_PREFIX = "encoder."
WEIGHTS_DTYPE = torch.float16


@dataclass
class ARCheckpoint:
    directory: Path
    model: Seq2SeqTransformer
    encoder: RequestEncoder
    tokenizer: CodeTokenizer
    cfg: ARConfig
    train_cfg: TrainConfig
    task: str
    meta: dict


def _export(v: torch.Tensor) -> torch.Tensor:
    v = v.detach().cpu()
    return (v.to(WEIGHTS_DTYPE) if v.is_floating_point() else v).contiguous()


def save_ar_checkpoint(directory, model: Seq2SeqTransformer, encoder: RequestEncoder, tokenizer: CodeTokenizer,
                       train_cfg: TrainConfig, task: str, extra: dict | None = None) -> Path:
    """A checkpoint to serve, weights in float16 like codefusion.checkpoint's shipped ones (loading casts back)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: _export(v) for k, v in model.state_dict().items()}
    if encoder.trainable:       # a frozen pretrained encoder is stored as its reference only
        tensors.update({ENCODER_PREFIX + k: _export(v) for k, v in encoder.state_dict().items()})
    save_file(tensors, str(directory / "model.safetensors.tmp"))
    (directory / "model.safetensors.tmp").replace(directory / "model.safetensors")
    meta = {"kind": CHECKPOINT_KIND, "task": task, "model": dataclasses.asdict(model.cfg),
            "train": dataclasses.asdict(train_cfg), "encoder": encoder.ref, "encoder_dim": encoder.hidden_size,
            "encoder_weights_saved": encoder.trainable, "weights_dtype": str(WEIGHTS_DTYPE).removeprefix("torch."),
            "parameters": count_parameters(model), **(extra or {})}
    (directory / "config.json.tmp").write_text(json.dumps(meta, indent=2))
    (directory / "config.json.tmp").replace(directory / "config.json")
    tokenizer.save(directory / "tokenizer.json")
    if encoder.ref == "scratch":
        encoder.model.tokenizer.save(directory / "encoder_tokenizer.json")
    return directory


def load_ar_checkpoint(directory) -> ARCheckpoint:
    directory = Path(directory)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"autoregressive checkpoint {directory} is missing {name}; train one with "
                                    "`python -m codefusion.baselines.autoregressive train --task TASK --out DIR`")
    meta = json.loads((directory / "config.json").read_text())
    if meta.get("kind") != CHECKPOINT_KIND:
        raise ValueError(f"{directory} is not an autoregressive checkpoint (config.json kind={meta.get('kind')!r}); "
                         "CodeFusion checkpoints load with codefusion.generate.load_generator")
    cfg, train_cfg = _dataclass_from(ARConfig, meta["model"]), _dataclass_from(TrainConfig, meta.get("train"))
    tokenizer = CodeTokenizer.load(directory / "tokenizer.json")
    scratch_tok = CodeTokenizer.load(directory / "encoder_tokenizer.json") if cfg.encoder == "scratch" else None
    encoder = build_encoder(cfg, scratch_tok, heads=cfg.n_heads, dropout=cfg.dropout)
    model = Seq2SeqTransformer(cfg, encoder.hidden_size)
    tensors = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(directory / "model.safetensors")).items()}
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(ENCODER_PREFIX)})
    if meta.get("encoder_weights_saved"):
        encoder.load_state_dict({k[len(ENCODER_PREFIX):]: v for k, v in tensors.items() if k.startswith(ENCODER_PREFIX)})
    return ARCheckpoint(directory, model.eval(), encoder.eval(), tokenizer, cfg, train_cfg, meta.get("task", ""), meta)


# ----------------------------------------------------------------------------------------------
# training data: exactly what codefusion.train uses

def record_pair(task: TaskAdapter, record) -> tuple[str, str]:
    """(source text, masked target) of a train/dev record, as codefusion.train builds it."""
    return task.training_pair(record)


def build_pairs(task_name: str, data_dir=None, tcfg: TrainConfig | None = None, pretrain: bool = True):
    """(train pairs, dev pairs, pretraining snippets) as codefusion.train builds them: the hash split,
    the adapter's (source, target) of each record, its extra pairs after the train records, and for
    stage 1 the snippet file (sampled down to pretrain_snippet_limit) followed by the train codes."""
    from ..training import configure_task
    tcfg = tcfg or TrainConfig()
    task = get_task(task_name)
    configure_task(task, tcfg)
    data_dir = resolve_data_dir(data_dir)
    train_recs, dev_recs = split_records(task_name, load_records(task_name, data_dir))
    train_pairs = [record_pair(task, r) for r in train_recs] + list(task.extra_training_pairs(data_dir))
    dev_pairs = [record_pair(task, r) for r in dev_recs]
    snippets: list[str] = []
    if pretrain:
        snippets = list(task.pretraining_snippets(data_dir))
        if len(snippets) > tcfg.pretrain_snippet_limit:
            snippets = random.Random(tcfg.seed).sample(snippets, tcfg.pretrain_snippet_limit)
        snippets += [code for _, code in train_pairs]
    return train_pairs, dev_pairs, snippets


# ----------------------------------------------------------------------------------------------
# training

@dataclass
class FitResult:
    model: Seq2SeqTransformer        # the best weights (by dev exact match, then dev loss)
    encoder: RequestEncoder
    tokenizer: CodeTokenizer
    cfg: ARConfig
    best: dict                       # the metrics of the best evaluation
    steps: int
    seconds: float
    history: list = field(default_factory=list)


def _to_tensors(tokenizer: CodeTokenizer, pairs, max_len: int):
    """(ids [N, L], sources, targets) of the pairs whose code fits with room for its end, like codefusion.train."""
    if not pairs:
        return torch.zeros(0, max_len, dtype=torch.long), [], []
    ids, fits = tokenizer.encode_batch([c for _, c in pairs], max_len)
    kept = [p for p, ok in zip(pairs, fits.tolist()) if ok]
    return ids[fits], [s for s, _ in kept], [c for _, c in kept]


def _log(*msg):
    print(*msg, file=sys.stderr, flush=True)


def fit(task_name: str, train_pairs, dev_pairs, cfg: ARConfig, tcfg: TrainConfig, *, plan: dict | None = None,
        snippets=(), tokenizer: CodeTokenizer | None = None, out=None, time_limit: float | None = None,
        progress: bool = False, log=_log, device: str | torch.device = "cpu") -> FitResult:
    """Train an AR model on (source, target) pairs; select on dev pairs (train pairs when there are none).

    plan: {"pretrain": steps, "finetune": steps} (default: finetune only, tcfg.finetune_steps).
    out: when given, the best model is saved there (with metrics.jsonl and train_summary.json).
    time_limit: minutes; stage 1 gets its share of it, as in codefusion.train.
    device: where training runs; dev decoding (beam search) always runs on the CPU, where the model is served."""
    from ..training import bf16_is_native, lr_factor, step_generator   # shared schedule and per-step draws

    task = get_task(task_name)
    plan = plan or {"pretrain": 0, "finetune": tcfg.finetune_steps}
    cfg = copy.deepcopy(cfg)
    snippets = list(snippets)
    out = Path(out) if out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    if tokenizer is None:
        tokenizer = CodeTokenizer.train([c for _, c in train_pairs] + snippets, tcfg.tokenizer_vocab)
    cfg.vocab_size = tokenizer.vocab_size
    scratch_tok = None
    if cfg.encoder == "scratch":
        scratch_tok = CodeTokenizer.train([s for s, _ in train_pairs] + snippets, cfg.scratch_encoder_vocab)
    torch.manual_seed(tcfg.seed)
    encoder = build_encoder(cfg, scratch_tok, heads=cfg.n_heads, dropout=cfg.dropout)
    model = Seq2SeqTransformer(cfg, encoder.hidden_size)
    device = torch.device(device)
    model.to(device)
    encoder.to(device)
    log(f"[{task_name}] autoregressive model: {count_parameters(model) / 1e6:.2f}M parameters "
        f"({cfg.encoder_layers} encoder + {cfg.decoder_layers} decoder layers, width {cfg.d_model}; "
        f"request encoder {encoder.ref}, {count_parameters(encoder) / 1e6:.2f}M, "
        f"{'trained' if encoder.trainable else 'frozen'})")

    train_ids, train_src, train_targets = _to_tensors(tokenizer, train_pairs, cfg.max_code_len)
    dev_ids, dev_src, dev_targets = _to_tensors(tokenizer, dev_pairs, cfg.max_code_len)
    log(f"fit in {cfg.max_code_len} tokens: train {len(train_src)}/{len(train_pairs)}, dev {len(dev_src)}/{len(dev_pairs)}")
    if not train_src and plan["finetune"]:
        raise ValueError(f"no training pair fits in {cfg.max_code_len} code tokens; raise max_code_len")
    if not dev_src:
        dev_ids, dev_src, dev_targets = train_ids, train_src, train_targets
        log("dev split is empty: model selection uses training pairs")
    snip_ids = torch.zeros(0, cfg.max_code_len, dtype=torch.long)
    snip_masked: list[str] = []
    if plan["pretrain"] and snippets:
        ids, fits = tokenizer.encode_batch(snippets, cfg.max_code_len)
        snip_ids = ids[fits]
        rng = random.Random(tcfg.seed + 1)   # one fixed masking per snippet, so encodings can be cached
        snip_masked = [mask_identifiers(s, tcfg.mask_frac, encoder.mask_word, rng)
                       for s, ok in zip(snippets, fits.tolist()) if ok]

    cache = None if encoder.trainable else EncodingCache(encoder)
    if cache is not None:
        t0 = time.time()
        cache.ensure(train_src + dev_src + [""] + snip_masked, progress=progress)   # all before any time limit starts
        log(f"cached {len(cache)} request encodings in {time.time() - t0:.1f}s")

    def source_states(texts):
        states, mask = cache.get(texts) if cache is not None else encoder(texts)
        return states.to(device), mask.to(device)

    def cpu_source_states(texts):
        states, mask = source_states(texts)
        return states.cpu(), mask.cpu()

    trainable = [p for p in list(model.parameters()) + list(encoder.parameters()) if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    use_bf16 = tcfg.bf16 and (device.type == "cuda" or bf16_is_native())
    history: list[dict] = []
    best: dict = {"key": None, "metrics": {}, "state": None}
    step = 0

    def record(row):
        history.append(row)
        if out:
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")

    def weights():
        state = {"model": copy.deepcopy(model.state_dict())}
        if encoder.trainable:
            state["encoder"] = copy.deepcopy(encoder.state_dict())
        return state

    def set_training(mode: bool):
        model.train(mode)
        encoder.train(mode)   # a frozen encoder stays in eval mode whatever is asked

    def evaluate_and_select():
        set_training(False)
        n_loss, n_em = tcfg.dev_loss_examples, tcfg.dev_em_examples
        decoder = model if device.type == "cpu" else copy.deepcopy(model).cpu()
        metrics = {"dev_loss": dev_loss(model, source_states, dev_ids[:n_loss].to(device), dev_src[:n_loss], tcfg.batch_size),
                   "dev_em": dev_exact_match(decoder, cpu_source_states, tokenizer, task, dev_src[:n_em], dev_targets[:n_em])}
        key = [metrics["dev_em"], -metrics["dev_loss"]]
        improved = best["key"] is None or key > best["key"]
        record({"step": step, "stage": "eval", **metrics})
        log(f"[eval step {step}] dev loss {metrics['dev_loss']:.4f} exact match {metrics['dev_em']:.3f}"
            f"{'  (best' + (', saved)' if out else ')') if improved else ''}")
        if improved:
            best.update(key=key, metrics={"best_step": step, **metrics}, state=weights())
            if out:
                save_ar_checkpoint(out, model, encoder, tokenizer, tcfg, task_name, extra=best["metrics"])
        set_training(True)

    if out:
        (out / "metrics.jsonl").unlink(missing_ok=True)
    start = time.time()
    deadline = start + time_limit * 60 if time_limit else None
    total_planned = plan["pretrain"] + plan["finetune"]
    set_training(True)
    from tqdm import tqdm
    for stage in ("pretrain", "finetune"):
        stage_len = plan[stage]
        if stage_len == 0:
            continue
        if stage == "pretrain" and len(snip_ids) == 0:
            log("no pretraining snippets fit: skipping stage 1")
            continue
        stage_deadline = deadline
        if deadline and stage == "pretrain" and plan["finetune"]:
            stage_deadline = start + (deadline - start) * stage_len / total_planned
        bar = tqdm(total=stage_len, desc=f"{task_name} AR {stage}", disable=not progress, mininterval=2,
                   dynamic_ncols=True)
        window, window_start, stage_start = [], time.time(), time.time()
        for stage_step in range(stage_len):
            if stage_deadline and time.time() > stage_deadline:
                log(f"time limit: ending {stage} at stage step {stage_step}")
                break
            g = step_generator(tcfg.seed, 0, step)
            B = tcfg.batch_size
            if stage == "pretrain":   # paragraph denoising; unconditional rows read the empty request
                idx = torch.randint(0, len(snip_ids), (B,), generator=g)
                ids = snip_ids[idx]
                uncond = (torch.rand(B, generator=g) < tcfg.uncond_frac).tolist()
                texts = ["" if u else snip_masked[i] for i, u in zip(idx.tolist(), uncond)]
            else:
                idx = torch.randint(0, len(train_ids), (B,), generator=g)
                ids = train_ids[idx]
                texts = [train_src[i] for i in idx.tolist()]
            ids = ids.to(device)
            time_progress = 0.0   # a run cut short by the time limit still anneals (as codefusion.train)
            if stage_deadline:
                time_progress = (time.time() - stage_start) / max(1e-9, stage_deadline - stage_start)
            factor = lr_factor(stage_step, stage_len, tcfg.warmup_steps, time_progress)
            for group in optimizer.param_groups:
                group["lr"] = tcfg.lr * factor
            # a frozen encoder fills its cache at full precision (as for the train/dev requests); bf16 is for training
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16 and cache is None):
                states, mask = source_states(texts)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                loss = model.loss(states, mask, ids)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, tcfg.grad_clip)
            optimizer.step()
            step += 1
            window.append(loss.item())
            bar.update(1)
            if step % tcfg.log_every == 0:
                elapsed = time.time() - window_start
                row = {"step": step, "stage": stage, "loss": sum(window) / len(window), "lr": tcfg.lr * factor,
                       "examples_per_s": len(window) * B / max(elapsed, 1e-9)}
                record(row)
                bar.set_postfix(loss=f"{row['loss']:.3f}", ex_s=f"{row['examples_per_s']:.0f}")
                window, window_start = [], time.time()
            if stage == "finetune" and step % tcfg.eval_every == 0:
                evaluate_and_select()
                window_start = time.time()   # throughput counts training time only
        bar.close()
    if best["key"] is None or history[-1].get("stage") != "eval" or history[-1]["step"] != step:
        evaluate_and_select()      # the final state competes too
    model.load_state_dict(best["state"]["model"])
    model.cpu()
    encoder.cpu()
    if "encoder" in best["state"]:
        encoder.load_state_dict(best["state"]["encoder"])
    set_training(False)
    seconds = time.time() - start
    if out:
        (out / "train_summary.json").write_text(json.dumps(
            {"task": task_name, "system": CHECKPOINT_KIND, "steps": step, "plan": plan, "best": best["metrics"],
             "parameters": count_parameters(model), "seconds": round(seconds, 1)}, indent=2))
    log(f"done: {step} steps in {seconds:.0f}s; best {best['metrics']}" + (f"; saved in {out}" if out else ""))
    return FitResult(model, encoder, tokenizer, cfg, best["metrics"], step, seconds, history)


@torch.no_grad()
def dev_loss(model: Seq2SeqTransformer, source_states, ids, sources, batch: int) -> float:
    total, n = 0.0, 0
    for a in range(0, len(sources), batch):
        states, mask = source_states(sources[a:a + batch])
        total += float(model.loss(states, mask, ids[a:a + batch])) * len(sources[a:a + batch])
        n += len(sources[a:a + batch])
    return total / max(1, n)


@torch.no_grad()
def dev_exact_match(model: Seq2SeqTransformer, source_states, tokenizer, task, sources, targets, batch: int = 32) -> float:
    """Greedy (one-beam) decoding of the raw model, compared as codefusion.train compares CodeFusion's."""
    hits = 0
    for a in range(0, len(sources), batch):
        states, mask = source_states(sources[a:a + batch])
        out = model.beam_search(states, mask, k=1)
        for row, target in zip(out.ids[:, 0], targets[a:a + batch]):
            hits += task.normalize_for_match(tokenizer.decode(row)) == task.normalize_for_match(target)
    return hits / max(1, len(sources))


# ----------------------------------------------------------------------------------------------
# command line

def parameter_report(config_name: str, vocab_size: int | None = None) -> dict:
    """Parameter counts of CodeFusion and of the matching AR model (request encoder excluded: both
    share the same frozen one)."""
    from ..model import CodeFusion
    named = get_config(config_name)
    mcfg = named.model
    mcfg.vocab_size = vocab_size or named.train.tokenizer_vocab
    encoder_dim = mcfg.scratch_encoder_dim if mcfg.encoder == "scratch" else 384   # MiniLM-L6 hidden size
    ar_cfg = ARConfig.matching(mcfg)
    return {"config": config_name, "vocab_size": mcfg.vocab_size,
            "codefusion": count_parameters(CodeFusion(mcfg, encoder_dim)),
            "autoregressive": count_parameters(Seq2SeqTransformer(ar_cfg, encoder_dim)),
            "autoregressive_layers": {"encoder": ar_cfg.encoder_layers, "decoder": ar_cfg.decoder_layers}}


def _train_command(args) -> int:
    from ..training import apply_train_overrides, available_cores, plan_steps, resolve_device
    torch.set_num_threads(max(1, min(args.threads, available_cores())))
    named = get_config(args.config or DEFAULT_CONFIG_FOR_TASK[args.task])
    tcfg = named.train
    apply_train_overrides(tcfg, args)
    if args.eval_every:
        tcfg.eval_every = args.eval_every
    cfg = ARConfig.matching(named.model)
    plan = plan_steps(tcfg, args.stage, args.max_steps)
    out = Path(args.out) if args.out else default_checkpoint_dir(f"ar-{args.task}")
    train_pairs, dev_pairs, snippets = build_pairs(args.task, args.data, tcfg, pretrain=plan["pretrain"] > 0)
    _log(f"[{args.task}] train pairs {len(train_pairs)}, dev pairs {len(dev_pairs)}, "
         f"pretraining snippets {len(snippets)}, plan {plan}")
    tokenizer = CodeTokenizer.load(args.tokenizer) if args.tokenizer else None
    fit(args.task, train_pairs, dev_pairs, cfg, tcfg, plan=plan, snippets=snippets, tokenizer=tokenizer, out=out,
        time_limit=args.time_limit, progress=not args.no_progress, device=resolve_device(args.device))
    return 0


def _generate_command(args) -> int:
    from ..generate import _read_table
    torch.set_num_threads(args.threads)
    system = load_system(args.task, args.checkpoint, "sample" if args.sample else "beam",
                         temperature=args.temperature, top_p=args.top_p, seed=args.seed)
    table = _read_table(args.table) if args.table else None
    for i, cand in enumerate(system.generate(args.request, table, args.k), 1):
        print(f"{i}. [{cand.score:.3f}] {cand.code}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m codefusion.baselines.autoregressive",
                                description="Autoregressive (encoder-decoder transformer) baseline for CodeFusion.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train on a task's data (same pairs, split, tokenizer and steps as CodeFusion)")
    t.add_argument("--task", required=True, choices=TASKS)
    t.add_argument("--config", choices=CONFIG_NAMES, help="CodeFusion config to size and schedule from (default <task>-small)")
    t.add_argument("--stage", choices=("all", "finetune"), default="all",
                   help="all: stage 1 (code-only denoising) then pairs, as CodeFusion; finetune: pairs only")
    t.add_argument("--out", help="checkpoint dir (default <repo>/checkpoints/ar-<task>)")
    t.add_argument("--max-steps", type=int, help="cap on optimizer steps (split between stages like codefusion.train)")
    t.add_argument("--time-limit", type=float, help="minutes; stop cleanly when reached (the best model is kept)")
    t.add_argument("--data", help="data dir holding codefusion/ (default: $CODEFUSION_DATA or ../shared/data)")
    t.add_argument("--seed", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--eval-every", type=int)
    t.add_argument("--tokenizer", help="use this tokenizer.json (e.g. a CodeFusion checkpoint's) instead of training one")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--pretrain-steps", type=int, help="override the config's stage-1 steps")
    t.add_argument("--finetune-steps", type=int, help="override the config's stage-2 steps")
    t.add_argument("--synthetic", type=int, help="cf: synthetic triples from codefusion.cfgen (default 20000)")
    t.add_argument("--device", default="auto", help="cpu, cuda, cuda:N, or auto (a GPU when there is one)")
    t.add_argument("--no-progress", action="store_true")
    g = sub.add_parser("generate", help="candidates for one request")
    g.add_argument("request")
    g.add_argument("--task", required=True, choices=TASKS)
    g.add_argument("-k", type=int, default=5)
    g.add_argument("--table", help="table file (.json rows or .csv), for cf")
    g.add_argument("--checkpoint")
    g.add_argument("--sample", action="store_true", help="k samples instead of k beams")
    g.add_argument("--temperature", type=float, default=1.0)
    g.add_argument("--top-p", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=int, default=1)
    c = sub.add_parser("params", help="parameter counts of CodeFusion and the matching AR model")
    c.add_argument("--task", required=True, choices=TASKS)
    c.add_argument("--config", choices=CONFIG_NAMES)
    c.add_argument("--vocab-size", type=int, help="code vocabulary size (default: the config's tokenizer_vocab)")
    args = p.parse_args(argv)
    try:
        if args.command == "train":
            return _train_command(args)
        if args.command == "generate":
            return _generate_command(args)
        report = parameter_report(args.config or DEFAULT_CONFIG_FOR_TASK[args.task], args.vocab_size)
        print(json.dumps(report, indent=2))
        return 0
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
