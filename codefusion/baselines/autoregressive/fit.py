"""Training the autoregressive baseline with codefusion.training's loop.

Everything but the network is CodeFusion's: the pairs (incl. the adapter's extra pairs), the dev split,
the code tokenizer (trained by the same call on the same texts), the frozen request encoder with cached
encodings, the step plan (stage 1 paragraph denoising + unconditional code, stage 2 pairs), the batch
draws, the LR schedule and model selection. Its own are the loss (teacher-forced cross-entropy; an
unconditional row reads the empty request) and the dev decoder (greedy: one beam, on the CPU).
"""
from __future__ import annotations

import copy
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ... import training
from ...config import TrainConfig
from ...encoders import EncodingCache, RequestEncoder, build_encoder
from ...tasks import get_task
from ...tasks.base import TaskAdapter
from ...tokenizer import CodeTokenizer
from .checkpoint import CHECKPOINT_KIND, save_ar_checkpoint
from .model import ARConfig, Seq2SeqTransformer, count_parameters


def record_pair(task: TaskAdapter, record) -> tuple[str, str]:
    """(source text, masked target) of a train/dev record, as codefusion.train builds it."""
    return task.training_pair(record)


def build_pairs(task_name: str, data_dir=None, tcfg: TrainConfig | None = None, pretrain: bool = True):
    """(train pairs, dev pairs, pretraining snippets) exactly as codefusion.train builds them."""
    return training.build_pairs(get_task(task_name), data_dir, tcfg or TrainConfig(), pretrain)


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


class ARTrainee:
    """The AR model's loss on a batch and its greedy decoder, for codefusion.training's loop."""

    def __init__(self, model: Seq2SeqTransformer, encoder: RequestEncoder, cache: EncodingCache | None,
                 tokenizer: CodeTokenizer, tcfg: TrainConfig, device: torch.device, bf16: bool):
        self.model, self.encoder, self.cache, self.tokenizer = model, encoder, cache, tokenizer
        self.tcfg, self.device, self.bf16 = tcfg, device, bf16

    def train(self, mode: bool = True):
        self.model.train(mode)
        self.encoder.train(mode)   # a frozen encoder stays in eval mode whatever is asked

    def source_states(self, texts):
        states, mask = self.cache.get(texts) if self.cache is not None else self.encoder(texts)
        return states.to(self.device), mask.to(self.device)

    def loss(self, ids, texts, uncond, generator):
        texts = ["" if u else text for text, u in zip(texts, uncond.tolist())]
        # a frozen encoder fills its cache at full precision (as for the train/dev requests); bf16 is for training
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16 and self.cache is None):
            states, mask = self.source_states(texts)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            return {"loss": self.model.loss(states, mask, ids)}

    @torch.no_grad()
    def dev_loss(self, ids, sources) -> dict:
        ids, batch = ids.to(self.device), self.tcfg.batch_size
        total, n = 0.0, 0
        for a in range(0, len(sources), batch):
            states, mask = self.source_states(sources[a:a + batch])
            total += float(self.model.loss(states, mask, ids[a:a + batch])) * len(sources[a:a + batch])
            n += len(sources[a:a + batch])
        return {"dev_loss": total / max(1, n)}

    @torch.no_grad()
    def decode(self, sources, batch: int = 32) -> list[str]:
        """Greedy (one-beam) decoding of the raw model, on the CPU where it is served."""
        decoder = self.model if self.device.type == "cpu" else copy.deepcopy(self.model).cpu()
        decoded = []
        for a in range(0, len(sources), batch):
            states, mask = self.source_states(sources[a:a + batch])
            out = decoder.beam_search(states.cpu(), mask.cpu(), k=1)
            decoded += [self.tokenizer.decode(row) for row in out.ids[:, 0]]
        return decoded


def log_to_stderr(*msg):
    print(*msg, file=sys.stderr, flush=True)


def fit(task_name: str, train_pairs, dev_pairs, cfg: ARConfig, tcfg: TrainConfig, *, plan: dict | None = None,
        snippets=(), tokenizer: CodeTokenizer | None = None, out=None, time_limit: float | None = None,
        progress: bool = False, log=log_to_stderr, device: str | torch.device = "cpu",
        initial_weights: dict | None = None) -> FitResult:
    """Train an AR model on (source, target) pairs; select on dev pairs (train pairs when there are none).

    plan: {"pretrain": steps, "finetune": steps} (default: finetune only, tcfg.finetune_steps).
    out: when given, the best model is saved there (with metrics.jsonl and train_summary.json).
    time_limit: minutes; stage 1 gets its share of it, as in codefusion.train.
    device: where training runs; dev decoding (beam search) always runs on the CPU, where the model is served."""
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
    if initial_weights is not None:      # continue a trained model (same config and tokenizer) on new data
        model.load_state_dict(initial_weights)
    device = torch.device(device)
    model.to(device)
    encoder.to(device)
    log(f"[{task_name}] autoregressive model: {count_parameters(model) / 1e6:.2f}M parameters "
        f"({cfg.encoder_layers} encoder + {cfg.decoder_layers} decoder layers, width {cfg.d_model}; "
        f"request encoder {encoder.ref}, {count_parameters(encoder) / 1e6:.2f}M, "
        f"{'trained' if encoder.trainable else 'frozen'})")

    data = training.TrainingTensors.build(tokenizer, cfg.max_code_len, train_pairs, dev_pairs,
                                          snippets if plan["pretrain"] else [], tcfg, encoder.mask_word, log)
    if not data.train_src and plan["finetune"]:
        raise ValueError(f"no training pair fits in {cfg.max_code_len} code tokens; raise max_code_len")
    cache = None if encoder.trainable else EncodingCache(encoder)
    if cache is not None:
        t0 = time.time()   # all before any time limit starts
        cache.ensure(data.train_src + data.dev_src + [""] + data.snip_masked, progress=progress)
        log(f"cached {len(cache)} request encodings in {time.time() - t0:.1f}s")

    trainable = [p for p in list(model.parameters()) + list(encoder.parameters()) if p.requires_grad]
    optimizer = training.make_optimizer(trainable, tcfg)
    history: list[dict] = []
    best: dict = {"metrics": {}, "state": None}

    def record(row):
        history.append(row)
        if out:
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")

    def keep_best(step: int, metrics: dict):
        state = {"model": copy.deepcopy(model.state_dict())}
        if encoder.trainable:
            state["encoder"] = copy.deepcopy(encoder.state_dict())
        best.update(metrics={"best_step": step, **metrics}, state=state)
        if out:
            save_ar_checkpoint(out, model, encoder, tokenizer, tcfg, task_name, extra=best["metrics"])

    if out:
        (out / "metrics.jsonl").unlink(missing_ok=True)
    start = time.time()
    trainee = ARTrainee(model, encoder, cache, tokenizer, tcfg, device, training.use_bf16(tcfg, device))
    state = training.run_stages(trainee, data, task, tcfg, plan, optimizer, trainable, training.new_state(),
                                device=device, on_best=keep_best, record=record, log=log,
                                label=f"{task_name} AR", time_limit=time_limit, select_without_finetune=True,
                                progress=progress)
    step = state["step"]
    model.load_state_dict(best["state"]["model"])
    model.cpu()
    encoder.cpu()
    if "encoder" in best["state"]:
        encoder.load_state_dict(best["state"]["encoder"])
    trainee.train(False)
    seconds = time.time() - start
    if out:
        (out / "train_summary.json").write_text(json.dumps(
            {"task": task_name, "system": CHECKPOINT_KIND, "steps": step, "plan": plan, "best": best["metrics"],
             "parameters": count_parameters(model), "seconds": round(seconds, 1)}, indent=2))
    log(f"done: {step} steps in {seconds:.0f}s; best {best['metrics']}" + (f"; saved in {out}" if out else ""))
    return FitResult(model, encoder, tokenizer, cfg, best["metrics"], step, seconds, history)
