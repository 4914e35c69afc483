"""The CodeFusion / GENIE training loss, each term returned separately for logging.

  diffusion: ||x0_pred - x0||^2            (or ||eps_pred - eps||^2 when the denoiser predicts noise)
  decoder:   ||decoder(x0_pred) - E(y)||^2  decoder states pulled onto the code embeddings
  ce:        cross-entropy of head(decoder(x0_pred)) against the tokens

Pads are targets too, so the model learns where the code ends: every real token and the first pad
count fully; the trailing pads (which are easy and numerous) count with weight `pad_weight`.
Squared errors are averaged over positions and embedding coordinates.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .tokenizer import PAD_ID

DEFAULT_WEIGHTS = {"diffusion": 1.0, "decoder": 1.0, "ce": 1.0}


def position_weights(ids: torch.Tensor, pad_weight: float) -> torch.Tensor:
    """[B, L] weights: 1 for tokens and the first pad, pad_weight for later pads."""
    is_pad = ids == PAD_ID
    later_pad = (is_pad.cumsum(-1) - is_pad.long()) > 0
    return torch.where(later_pad, pad_weight, 1.0).float()


def _weighted_mean(per_position: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (per_position * weights).sum() / weights.sum()


def loss_terms(out: dict, ids: torch.Tensor, predict: str = "x0", pad_weight: float = 0.25,
               weights: dict | None = None) -> dict:
    """Loss terms from a CodeFusion.forward output dict. Returns {"loss", "diffusion", "decoder", "ce"}."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    w = position_weights(ids, pad_weight)
    if predict == "noise":
        diffusion = _weighted_mean((out["raw"] - out["noise"]).pow(2).mean(-1), w)
    else:
        diffusion = _weighted_mean((out["x0_pred"] - out["x0"]).pow(2).mean(-1), w)
    decoder = _weighted_mean((out["dec_states"] - out["x0"]).pow(2).mean(-1), w)
    logits = out["logits"]
    ce_per = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids.reshape(-1), reduction="none")
    ce = _weighted_mean(ce_per.view_as(w), w)
    total = weights["diffusion"] * diffusion + weights["decoder"] * decoder + weights["ce"] * ce
    return {"loss": total, "diffusion": diffusion, "decoder": decoder, "ce": ce}


def training_loss(model, ids, memory, memory_mask, generator: torch.Generator | None = None,
                  pad_weight: float = 0.25, weights: dict | None = None, t: torch.Tensor | None = None) -> dict:
    """Sample a timestep and noise per row, run the model, return the loss terms.
    `model` may be wrapped in DistributedDataParallel (then forward goes through the wrapper)."""
    core = model.module if hasattr(model, "module") else model
    B = ids.shape[0]
    if t is None:
        t = core.scheduler.sample_timesteps(B, generator)
    noise = torch.randn(B, ids.shape[1], core.cfg.embed_dim, generator=generator)
    out = model(ids, memory, memory_mask, t, noise)
    return loss_terms(out, ids, core.cfg.predict, pad_weight, weights)
