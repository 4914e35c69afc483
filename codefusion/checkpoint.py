"""Checkpoint directories.

    model.safetensors   weights of CodeFusion (+ the request encoder's, prefixed "encoder.", only when it was
                        trained: a frozen pretrained encoder is stored as a reference, never as weights)
    config.json         {"task", "model", "train", "encoder": reference, "encoder_dim", "encoder_weights_saved"}
    tokenizer.json      the code tokenizer
    encoder_tokenizer.json   only for a from-scratch encoder
    train_state.pt      optional: optimizer, LR scheduler, step, stage, RNG states, best dev metric (for --resume)
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .config import ModelConfig, TrainConfig, config_from_dict, config_to_dict
from .encoders import RequestEncoder, build_encoder
from .model import CodeFusion
from .tokenizer import CodeTokenizer

ENCODER_PREFIX = "encoder."
PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_checkpoints() -> Path:
    """The folder of the shipped models: codefusion/checkpoints/ in an installed wheel (setup.py puts
    them there), <repo>/checkpoints/ in a checkout."""
    installed = PACKAGE_DIR / "checkpoints"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "checkpoints"


@dataclass
class Checkpoint:
    model: CodeFusion
    encoder: RequestEncoder
    tokenizer: CodeTokenizer
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    task: str
    meta: dict
    train_state: dict | None = None


def _replace(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)  # atomic on one filesystem: a crash never leaves a half-written file


def save_checkpoint(directory, model: CodeFusion, encoder: RequestEncoder, tokenizer: CodeTokenizer,
                    train_cfg: TrainConfig, task: str, train_state: dict | None = None, extra: dict | None = None) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # A checkpoint without train state is one to ship or serve: its weights are stored as float16 (half the
    # bytes; loading casts them back to float32). Resume checkpoints keep float32 so training continues exactly.
    weights_dtype = torch.float32 if train_state is not None else torch.float16

    def _export(v: torch.Tensor) -> torch.Tensor:
        v = v.detach().cpu()
        return (v.to(weights_dtype) if v.is_floating_point() else v).contiguous()

    tensors = {k: _export(v) for k, v in model.state_dict().items()}
    save_encoder = encoder.trainable
    if save_encoder:
        tensors.update({ENCODER_PREFIX + k: _export(v) for k, v in encoder.state_dict().items()})
    save_file(tensors, str(directory / "model.safetensors.tmp"))
    _replace(directory / "model.safetensors.tmp", directory / "model.safetensors")

    meta = {"task": task, **config_to_dict(model.cfg, train_cfg), "encoder": encoder.ref,
            "encoder_dim": encoder.hidden_size, "encoder_weights_saved": save_encoder,
            "weights_dtype": str(weights_dtype).removeprefix("torch."), **(extra or {})}
    (directory / "config.json.tmp").write_text(json.dumps(meta, indent=2))
    _replace(directory / "config.json.tmp", directory / "config.json")
    tokenizer.save(directory / "tokenizer.json")
    if encoder.ref == "scratch":
        encoder.model.tokenizer.save(directory / "encoder_tokenizer.json")
    if train_state is not None:
        torch.save(train_state, directory / "train_state.pt.tmp")
        _replace(directory / "train_state.pt.tmp", directory / "train_state.pt")
    return directory


def load_checkpoint(directory, with_train_state: bool = False, map_location="cpu") -> Checkpoint:
    directory = Path(directory)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"checkpoint {directory} is missing {name}; train one with "
                                    "`python -m codefusion.train --task TASK --out DIR`")
    meta = json.loads((directory / "config.json").read_text())
    model_cfg, train_cfg = config_from_dict(meta)
    tokenizer = CodeTokenizer.load(directory / "tokenizer.json")
    scratch_tok = None
    if model_cfg.encoder == "scratch":
        scratch_tok = CodeTokenizer.load(directory / "encoder_tokenizer.json")
    encoder = build_encoder(model_cfg, scratch_tok, heads=model_cfg.n_heads, dropout=model_cfg.dropout)
    model = CodeFusion(model_cfg, encoder.hidden_size)

    tensors = load_file(str(directory / "model.safetensors"), device=str(map_location))
    enc_state = {k[len(ENCODER_PREFIX):]: v for k, v in tensors.items() if k.startswith(ENCODER_PREFIX)}
    model_state = {k: v for k, v in tensors.items() if not k.startswith(ENCODER_PREFIX)}
    model.load_state_dict(model_state)
    if meta.get("encoder_weights_saved"):
        encoder.load_state_dict(enc_state)
    state = None
    if with_train_state and (directory / "train_state.pt").is_file():
        state = torch.load(directory / "train_state.pt", map_location=map_location, weights_only=False)
    return Checkpoint(model, encoder, tokenizer, model_cfg, train_cfg, meta.get("task", ""), meta, state)
