"""Autoregressive checkpoints: model.safetensors (float16), config.json, tokenizer.json (+ encoder_tokenizer.json
for a scratch encoder)."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ...config import TrainConfig
from ...encoders import RequestEncoder, build_encoder
from ...tokenizer import CodeTokenizer
from .model import ARConfig, Seq2SeqTransformer, count_parameters, dataclass_from

CHECKPOINT_KIND = "autoregressive"
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
    cfg, train_cfg = dataclass_from(ARConfig, meta["model"]), dataclass_from(TrainConfig, meta.get("train"))
    tokenizer = CodeTokenizer.load(directory / "tokenizer.json")
    scratch_tok = CodeTokenizer.load(directory / "encoder_tokenizer.json") if cfg.encoder == "scratch" else None
    encoder = build_encoder(cfg, scratch_tok, heads=cfg.n_heads, dropout=cfg.dropout)
    model = Seq2SeqTransformer(cfg, encoder.hidden_size)
    tensors = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(directory / "model.safetensors")).items()}
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(ENCODER_PREFIX)})
    if meta.get("encoder_weights_saved"):
        encoder.load_state_dict({k[len(ENCODER_PREFIX):]: v for k, v in tensors.items() if k.startswith(ENCODER_PREFIX)})
    return ARCheckpoint(directory, model.eval(), encoder.eval(), tokenizer, cfg, train_cfg, meta.get("task", ""), meta)

