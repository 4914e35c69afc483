"""The two-stage training loop every model here is trained with (CodeFusion and the autoregressive baseline).

Stage 1 (pretrain), code only: each row is either unconditional generation or paragraph denoising (the
request is the code with a share of identifiers replaced by a mask word). Stage 2 (finetune): the
(source text, code) pairs of the train split and the task adapter's extra pairs. Dev loss and a dev exact
match of the model's own decoder pick the best weights.

The loop owns what the models share: the data (pairs, tokens, masked snippets), the step plan, the batch
draws (from a generator seeded by (seed, rank, step), so a resumed run continues exactly), the learning
rate schedule and the stage clock under a time limit, the optimizer step, the metrics rows and model
selection. A model comes in as a `Trainee`: its loss on a batch and its decoder for the dev requests.
"""
from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import torch
import torch.distributed as dist

from .config import TrainConfig
from .data import load_records, resolve_data_dir, split_records
from .tasks.base import TaskAdapter, mask_identifiers
from .tokenizer import CodeTokenizer


# ----------------------------------------------------------------------------- devices and processes
def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit(f"--device {name}: no CUDA GPU is visible to torch; use --device cpu")
        if device.index is None:  # under torchrun each process takes the GPU of its local rank
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
    return device


def setup_distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size); joins the process group when torchrun started several processes."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return dist.get_rank(), world
    return 0, 1


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def bf16_is_native() -> bool:
    """bf16 autocast only pays off where the CPU has bf16 instructions; elsewhere it is emulated and slower."""
    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool((check and check()) or (amx and amx()))


def use_bf16(tcfg: TrainConfig, device: torch.device) -> bool:
    return tcfg.bf16 and (device.type == "cuda" or bf16_is_native())


def step_generator(seed: int, rank: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + rank * 7919 + step) % (2 ** 63))


# ----------------------------------------------------------------------------- configuration
def apply_train_overrides(tcfg: TrainConfig, args) -> None:
    """The command-line overrides of a TrainConfig that both training commands take."""
    if args.batch_size:
        tcfg.batch_size = args.batch_size
    if args.seed is not None:
        tcfg.seed = args.seed
    if args.pretrain_steps is not None:
        tcfg.pretrain_steps = args.pretrain_steps
    if args.finetune_steps is not None:
        tcfg.finetune_steps = args.finetune_steps
    if getattr(args, "synthetic", None) is not None:
        tcfg.synthetic_pairs = args.synthetic


def configure_task(task: TaskAdapter, tcfg: TrainConfig) -> None:
    """Apply the TrainConfig's data options to the task adapter before it builds its extra pairs."""
    if tcfg.synthetic_pairs is None:
        return
    if not hasattr(task, "synthetic_triples"):
        raise SystemExit(f"--synthetic: task {task.name!r} has no synthetic data generator (only cf has one)")
    if tcfg.synthetic_pairs < 0:
        raise SystemExit(f"--synthetic must be >= 0, got {tcfg.synthetic_pairs}")
    task.synthetic_triples = tcfg.synthetic_pairs


def plan_steps(cfg: TrainConfig, stage: str, max_steps: int | None) -> dict:
    """Optimizer steps per stage; --max-steps caps the total, split in the config's proportion."""
    pre = cfg.pretrain_steps if stage in ("pretrain", "all") else 0
    fine = cfg.finetune_steps if stage in ("finetune", "all") else 0
    if max_steps is not None and max_steps < pre + fine:
        pre_new = round(max_steps * pre / (pre + fine)) if pre + fine else 0
        pre, fine = pre_new, max_steps - pre_new
        if stage == "all" and fine == 0 and max_steps > 0:
            pre, fine = max_steps - 1, 1
    return {"pretrain": pre, "finetune": fine}


def lr_factor(stage_step: int, stage_len: int, warmup: int, time_progress: float = 0.0) -> float:
    """Linear warmup, then cosine decay to 10 % over the stage. With a time limit, `time_progress` (share of the
    stage's time used) drives the decay when it is ahead of the step count, so a cut-short run still anneals."""
    warmup = min(warmup, max(1, stage_len // 10))
    if stage_step < warmup:
        return (stage_step + 1) / warmup
    progress = max((stage_step - warmup) / max(1, stage_len - warmup), time_progress)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(parameters, tcfg: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(parameters, lr=tcfg.lr, weight_decay=tcfg.weight_decay)


# ----------------------------------------------------------------------------- data
def build_pairs(task: TaskAdapter, data_dir, tcfg: TrainConfig, pretrain: bool = True):
    """(train pairs, dev pairs, pretraining snippets): the hash split, the adapter's (source, target) of each
    record, its extra pairs after the train records, and for stage 1 the snippet file (sampled down to
    pretrain_snippet_limit) followed by the train codes, which are code-only data too."""
    configure_task(task, tcfg)
    data_dir = resolve_data_dir(data_dir)
    train_recs, dev_recs = split_records(task.name, load_records(task.name, data_dir))
    train_pairs = [task.training_pair(r) for r in train_recs] + list(task.extra_training_pairs(data_dir))
    dev_pairs = [task.training_pair(r) for r in dev_recs]
    snippets: list[str] = []
    if pretrain:
        snippets = list(task.pretraining_snippets(data_dir))
        if len(snippets) > tcfg.pretrain_snippet_limit:
            snippets = random.Random(tcfg.seed).sample(snippets, tcfg.pretrain_snippet_limit)
        snippets += [code for _, code in train_pairs]
    return train_pairs, dev_pairs, snippets


def pairs_to_tensors(tokenizer: CodeTokenizer, pairs, max_len: int):
    """(ids [N, L], sources, target strings) of the pairs whose code fits in max_len with room for its end."""
    if not pairs:
        return torch.zeros(0, max_len, dtype=torch.long), [], []
    ids, fits = tokenizer.encode_batch([c for _, c in pairs], max_len)
    kept = [p for p, ok in zip(pairs, fits.tolist()) if ok]
    return ids[fits], [s for s, _ in kept], [c for _, c in kept]


@dataclass
class TrainingTensors:
    """The tokenized data of both stages; targets that do not fit max_code_len are dropped."""
    train_ids: torch.Tensor
    train_src: list[str]
    train_targets: list[str]
    dev_ids: torch.Tensor
    dev_src: list[str]
    dev_targets: list[str]
    snip_ids: torch.Tensor        # stage 1 code
    snip_masked: list[str]        # stage 1 requests: the code with identifiers masked

    @classmethod
    def build(cls, tokenizer: CodeTokenizer, max_len: int, train_pairs, dev_pairs, snippets, tcfg: TrainConfig,
              mask_word: str, log: Callable = print) -> "TrainingTensors":
        train_ids, train_src, train_targets = pairs_to_tensors(tokenizer, train_pairs, max_len)
        dev_ids, dev_src, dev_targets = pairs_to_tensors(tokenizer, dev_pairs, max_len)
        log(f"fit in {max_len} tokens: train {len(train_src)}/{len(train_pairs)}, dev {len(dev_src)}/{len(dev_pairs)}")
        if not dev_src:  # tiny data sets: select on the train pairs rather than not at all
            dev_ids, dev_src, dev_targets = train_ids, train_src, train_targets
            log("dev split is empty: model selection uses training pairs")
        snip_ids = torch.zeros(0, max_len, dtype=torch.long)
        snip_masked: list[str] = []
        if snippets:
            ids, fits = tokenizer.encode_batch(list(snippets), max_len)
            snip_ids = ids[fits]
            rng = random.Random(tcfg.seed + 1)  # one fixed masking per snippet, so frozen-encoder outputs can be cached
            snip_masked = [mask_identifiers(s, tcfg.mask_frac, mask_word, rng)
                           for s, ok in zip(snippets, fits.tolist()) if ok]
        return cls(train_ids, train_src, train_targets, dev_ids, dev_src, dev_targets, snip_ids, snip_masked)


# ----------------------------------------------------------------------------- the loop
class Trainee(Protocol):
    """A model as the loop sees it."""

    def train(self, mode: bool = True): ...

    def loss(self, ids: torch.Tensor, texts: list[str], uncond: torch.Tensor,
             generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Loss terms of one batch; "loss" is the one optimized. `ids` [B, L] on the training device,
        `texts` the B requests, `uncond` [B] bool (CPU): rows to train without their request (stage 1).
        Further random draws come from `generator`, after the loop's."""

    def dev_loss(self, ids: torch.Tensor, sources: list[str]) -> dict[str, float]:
        """Dev metrics from a fixed draw, "dev_loss" among them."""

    def decode(self, sources: list[str]) -> list[str]:
        """The model's one best code for each request."""


def optimizer_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, parameters, grad_clip: float) -> None:
    """One gradient step: the project's only call of backward(), shared by every trainer."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, grad_clip)
    optimizer.step()


def exact_match(task: TaskAdapter, decoded: list[str], targets: list[str]) -> float:
    hits = sum(task.normalize_for_match(d) == task.normalize_for_match(t) for d, t in zip(decoded, targets))
    return hits / max(1, len(targets))


def new_state() -> dict:
    """What a resumed run needs of the loop: global step, each stage's step, the best selection key."""
    return {"step": 0, "stage_step": {"pretrain": 0, "finetune": 0}, "best": None}


def run_stages(trainee: Trainee, data: TrainingTensors, task: TaskAdapter, tcfg: TrainConfig, plan: dict,
               optimizer: torch.optim.Optimizer, parameters: list, state: dict, *, device: torch.device,
               on_best: Callable[[int, dict], None], record: Callable[[dict], None] = lambda row: None,
               on_save: Callable[[], None] | None = None, log: Callable = print, label: str = "",
               rank: int = 0, world: int = 1, time_limit: float | None = None, stop_at_step: int | None = None,
               select_without_finetune: bool = False, progress: bool = True) -> dict:
    """Train `trainee` through the planned stages, updating `state` in place (and returning it).

    Every tcfg.eval_every finetune steps (and once at the end) rank 0 computes the dev loss and exact match
    and calls `on_best(step, metrics)` when (exact match, -loss) improves; `on_save()` runs every
    tcfg.save_every steps and at the end. `time_limit` (minutes) gives stage 1 its planned share of the
    time and stage 2 the rest; `stop_at_step` stops without changing the plan or the schedule."""
    from tqdm import tqdm

    def evaluate_and_select():
        trainee.train(False)
        if rank == 0:
            n_loss, n_em = tcfg.dev_loss_examples, tcfg.dev_em_examples
            metrics = trainee.dev_loss(data.dev_ids[:n_loss], data.dev_src[:n_loss])
            metrics["dev_em"] = exact_match(task, trainee.decode(data.dev_src[:n_em]), data.dev_targets[:n_em])
            record({"step": state["step"], "stage": "eval", **metrics})
            key = [metrics["dev_em"], -metrics["dev_loss"]]
            improved = state["best"] is None or key > state["best"]
            losses = " ".join(f"{name.removeprefix('dev_')} {value:.4f}"
                              for name, value in metrics.items() if name != "dev_em")
            log(f"[eval step {state['step']}] dev {losses} exact match {metrics['dev_em']:.3f}"
                f"{'  (best)' if improved else ''}")
            if improved:
                state["best"] = key
                on_best(state["step"], metrics)
        trainee.train(True)
        if world > 1:
            dist.barrier()
            best = [state["best"]]
            dist.broadcast_object_list(best, src=0)
            state["best"] = best[0]

    if plan["finetune"] and len(data.train_ids) == 0:
        raise ValueError("no training pair fits in the code length; raise max_code_len in the config")
    start_time = time.time()
    deadline = start_time + time_limit * 60 if time_limit else None
    total_planned = plan["pretrain"] + plan["finetune"]
    trainee.train(True)
    for stage in ("pretrain", "finetune"):
        stage_len = plan[stage]
        if state["stage_step"][stage] >= stage_len:
            continue
        if stage == "pretrain" and len(data.snip_ids) == 0:
            log("no pretraining snippets fit: skipping stage 1")
            continue
        stage_deadline = deadline
        if deadline and stage == "pretrain" and plan["finetune"]:
            stage_deadline = start_time + (deadline - start_time) * stage_len / total_planned
        bar = tqdm(total=stage_len, initial=state["stage_step"][stage], desc=f"{label} {stage}".strip(),
                   disable=rank != 0 or not progress, mininterval=2, dynamic_ncols=True)
        window, window_start, window_examples = [], time.time(), 0
        stage_start = time.time()
        while state["stage_step"][stage] < stage_len:
            if stop_at_step is not None and state["step"] >= stop_at_step:
                break
            if stage_deadline and time.time() > stage_deadline:
                log(f"time limit: ending {stage} at stage step {state['stage_step'][stage]}")
                break
            g = step_generator(tcfg.seed, rank, state["step"])
            B = tcfg.batch_size
            if stage == "pretrain":
                idx = torch.randint(0, len(data.snip_ids), (B,), generator=g)
                ids = data.snip_ids[idx]
                uncond = torch.rand(B, generator=g) < tcfg.uncond_frac
                texts = [data.snip_masked[i] for i in idx.tolist()]
            else:
                idx = torch.randint(0, len(data.train_ids), (B,), generator=g)
                ids = data.train_ids[idx]
                uncond = torch.zeros(B, dtype=torch.bool)
                texts = [data.train_src[i] for i in idx.tolist()]
            time_progress = 0.0
            if stage_deadline:
                time_progress = (time.time() - stage_start) / max(1e-9, stage_deadline - stage_start)
            factor = lr_factor(state["stage_step"][stage], stage_len, tcfg.warmup_steps, time_progress)
            for group in optimizer.param_groups:
                group["lr"] = tcfg.lr * factor
            terms = trainee.loss(ids.to(device), texts, uncond, g)
            optimizer_step(terms["loss"], optimizer, parameters, tcfg.grad_clip)
            state["step"] += 1
            state["stage_step"][stage] += 1
            window.append({k: v.item() for k, v in terms.items()})
            window_examples += B * world
            bar.update(1)
            if state["step"] % tcfg.log_every == 0:
                elapsed = time.time() - window_start
                row = {"step": state["step"], "stage": stage,
                       **{k: sum(w[k] for w in window) / len(window) for k in window[0]},
                       "lr": tcfg.lr * factor, "examples_per_s": window_examples / max(elapsed, 1e-9)}
                record(row)
                bar.set_postfix(loss=f"{row['loss']:.3f}", ex_s=f"{row['examples_per_s']:.0f}")
                window, window_start, window_examples = [], time.time(), 0
            if stage == "finetune" and state["step"] % tcfg.eval_every == 0:
                evaluate_and_select()
                window_start = time.time()  # throughput counts training time only
            if on_save is not None and state["step"] % tcfg.save_every == 0:
                on_save()
                window_start = time.time()
        bar.close()
    stopped_early = stop_at_step is not None and state["step"] >= stop_at_step
    evaluated_now = state["best"] is not None and state["step"] % tcfg.eval_every == 0
    if not stopped_early and (plan["finetune"] or select_without_finetune) and not evaluated_now:
        evaluate_and_select()  # the final state competes for "best" too
    if on_save is not None:
        on_save()
    return state
