"""Autoregressive baseline: an encoder-decoder transformer that writes code left to right.

    python -m codefusion.baselines.autoregressive train --task cf [--config NAME] [--out DIR]
        [--max-steps N] [--time-limit MIN] [--data DIR] [--stage all|finetune] [--seed S] [--batch-size B]
    python -m codefusion.baselines.autoregressive generate --task cf "highlight sales under 500" [-k 5]
        [--table FILE] [--sample] [--checkpoint DIR]
    python -m codefusion.baselines.autoregressive params --task cf      # parameter counts, AR vs CodeFusion

    system = load_system("cf")                       # <repo>/checkpoints/ar-cf (or $CODEFUSION_CHECKPOINTS/ar-cf)
    system.generate("highlight sales under 500", table=rows, k=5)   # -> [Candidate(code, score)], best first

The package: model.py (the network), decoding.py (beam search, sampling), checkpoint.py, system.py
(what codefusion.evaluate calls), fit.py (training with codefusion.training's loop), cli.py.

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

from .checkpoint import CHECKPOINT_KIND, ARCheckpoint, load_ar_checkpoint, save_ar_checkpoint
from .cli import main, parameter_report
from .decoding import Decoded
from .fit import FitResult, build_pairs, fit, record_pair
from .model import IGNORE, ARConfig, Seq2SeqTransformer, count_parameters, teacher_forcing
from .system import AutoregressiveSystem, load_system

__all__ = ["ARConfig", "Seq2SeqTransformer", "Decoded", "AutoregressiveSystem", "load_system", "fit",
           "FitResult", "build_pairs", "record_pair", "save_ar_checkpoint", "load_ar_checkpoint", "ARCheckpoint",
           "CHECKPOINT_KIND", "IGNORE", "count_parameters", "teacher_forcing", "parameter_report", "main"]
