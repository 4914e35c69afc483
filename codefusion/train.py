"""Train CodeFusion for one task.

    python -m codefusion.train --task {cf,bash,python} [--config NAME] [--stage pretrain|finetune|all]
        [--max-steps N] [--out DIR] [--data DIR] [--seed S] [--resume] [--batch-size B] [--time-limit MIN]
    torchrun --nproc_per_node 2 -m codefusion.train ...        (DDP, gloo on CPU)

Stage 1 (pretrain), code only: each row is either unconditional generation (a Gaussian "noise encoding"
stands in for the request) or continuous paragraph denoising (the encoder reads the code with a share
of identifiers replaced by a mask word; the model reconstructs the full code).
Stage 2 (finetune): (source_text, code) pairs of the train split (+ the task adapter's extra pairs).
Dev loss and a sampled dev exact match pick the best checkpoint.

Output dir: the best model at the top (model.safetensors, config.json, tokenizer.json), the latest state
for --resume in last/ (with train_state.pt), metrics.jsonl and loss_curves.png.
Every step draws its batch, timesteps and noise from a generator seeded by (seed, rank, step), so a
resumed run continues exactly where it stopped.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from .checkpoint import load_checkpoint, save_checkpoint
from .config import DEFAULT_CONFIG_FOR_TASK, CONFIG_NAMES, get_config
from .data import REPO_ROOT, TASKS, load_records, resolve_data_dir, split_records
from .encoders import EncodingCache, build_encoder
from .losses import loss_terms
from .model import CodeFusion, count_parameters
from .tasks import get_task
from .tasks.base import mask_identifiers
from .tokenizer import CodeTokenizer


# ----------------------------------------------------------------------------- the trained module
class TrainingModule(nn.Module):
    """CodeFusion + request encoder in one module, so DDP sees (and syncs) a trainable encoder too."""

    def __init__(self, model: CodeFusion, encoder, cache: EncodingCache | None):
        super().__init__()
        self.model = model
        self.encoder = encoder
        self.cache = cache  # plain attribute: cached frozen-encoder outputs

    def source_states(self, texts: list[str]):
        if self.cache is None:
            return self.encoder(texts)
        device = self.model.logit_bias.device  # the cache lives on the CPU; the model may not
        states, mask = self.cache.get(texts)
        return states.to(device, non_blocking=True), mask.to(device, non_blocking=True)

    def forward(self, ids, texts, uncond, t, noise, noise_memory):
        """uncond [B] bool: rows that get `noise_memory` instead of an encoding; `texts` are for the others, in order."""
        B = ids.shape[0]
        noise_mem, noise_mask = noise_memory
        if len(texts):
            states, smask = self.source_states(texts)
            proj = self.model.project_source(states)
        else:
            proj, smask = noise_mem[:0], noise_mask[:0]
        if bool(uncond.any()):
            S = max(proj.shape[1], noise_mem.shape[1])
            memory = proj.new_zeros(B, S, proj.shape[-1])
            mask = torch.zeros(B, S, dtype=torch.bool, device=proj.device)
            memory[uncond, :noise_mem.shape[1]] = noise_mem[uncond].to(memory.dtype)
            mask[uncond, :noise_mem.shape[1]] = True
            memory[~uncond, :proj.shape[1]] = proj
            mask[~uncond, :proj.shape[1]] = smask
        else:
            memory, mask = proj, smask
        return self.model(ids, memory, mask, t, noise)


# ----------------------------------------------------------------------------- setup helpers
def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m codefusion.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("--config", choices=CONFIG_NAMES, help="named config (default: <task>-small)")
    p.add_argument("--stage", choices=("pretrain", "finetune", "all"), default="all")
    p.add_argument("--max-steps", type=int, help="cap on optimizer steps (split between stages in config proportion)")
    p.add_argument("--out", help="output dir (default: <repo>/checkpoints/<task>)")
    p.add_argument("--data", help="data dir holding codefusion/ (default: $CODEFUSION_DATA or ../shared/data)")
    p.add_argument("--seed", type=int)
    p.add_argument("--resume", action="store_true", help="continue from <out>/last if it exists")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--pretrain-steps", type=int, help="override the config's stage-1 steps")
    p.add_argument("--finetune-steps", type=int, help="override the config's stage-2 steps")
    p.add_argument("--lr", type=float, help="override the config's peak learning rate")
    p.add_argument("--synthetic", type=int, help="cf: synthetic triples from codefusion.cfgen (default 20000)")
    p.add_argument("--time-limit", type=float, help="minutes; stop cleanly (and save) when reached")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads per process (default 1: on the shared 2-core box 2 threads ran 5x slower "
                        "than 1 under contention; use 2 on an idle machine)")
    p.add_argument("--encoder", help="override encoder: scratch | package:NAME | local:/dir")
    p.add_argument("--train-encoder", action="store_true", help="fine-tune a pretrained encoder instead of freezing it")
    p.add_argument("--device", default="auto",
                   help="cpu, cuda, cuda:N, or auto (a GPU when there is one); the service always runs on the CPU")
    p.add_argument("--eval-every", type=int)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--stop-at-step", type=int, help="stop (saving last/) at this global step without changing the "
                                                     "step plan or LR schedule; --resume continues exactly")
    return p.parse_args(argv)


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


def setup_distributed(device: torch.device):
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


_T0 = time.time()


def bf16_is_native() -> bool:
    """bf16 autocast only pays off where the CPU has bf16 instructions; elsewhere it is emulated and slower."""
    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool((check and check()) or (amx and amx()))


def log(rank, *msg):
    if rank == 0:
        print(f"[{time.time() - _T0:6.1f}s]", *msg, file=sys.stderr, flush=True)


def step_generator(seed: int, rank: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + rank * 7919 + step) % (2 ** 63))


def apply_train_overrides(tcfg, args) -> None:
    """The command-line overrides of a TrainConfig that this trainer and the autoregressive baseline share."""
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


def configure_task(task, tcfg) -> None:
    """Apply the TrainConfig's data options to the task adapter before it builds its extra pairs."""
    if tcfg.synthetic_pairs is None:
        return
    if not hasattr(task, "synthetic_triples"):
        raise SystemExit(f"--synthetic: task {task.name!r} has no synthetic data generator (only cf has one)")
    if tcfg.synthetic_pairs < 0:
        raise SystemExit(f"--synthetic must be >= 0, got {tcfg.synthetic_pairs}")
    task.synthetic_triples = tcfg.synthetic_pairs


def plan_steps(cfg, stage: str, max_steps: int | None) -> dict:
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


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def dev_loss(module: TrainingModule, ids: torch.Tensor, sources: list[str], tcfg, batch: int) -> dict:
    g = torch.Generator().manual_seed(1234)  # same t and noise every evaluation: losses are comparable
    model = module.model
    device = model.logit_bias.device
    sums, n = {"loss": 0.0, "ce": 0.0}, 0
    for a in range(0, len(sources), batch):
        b_ids, b_src = ids[a:a + batch], sources[a:a + batch]
        B = b_ids.shape[0]
        t = model.scheduler.sample_timesteps(B, g).to(device)
        noise = torch.randn(B, b_ids.shape[1], model.cfg.embed_dim, generator=g).to(device)
        noise_memory = tuple(x.to(device) for x in model.noise_memory(B, g))
        b_ids = b_ids.to(device)
        out = module(b_ids, b_src, torch.zeros(B, dtype=torch.bool, device=device), t, noise, noise_memory)
        terms = loss_terms(out, b_ids, model.cfg.predict, tcfg.ce_pad_weight, tcfg.loss_weights)
        for k in sums:
            sums[k] += float(terms[k]) * B
        n += B
    return {f"dev_{k}": v / max(1, n) for k, v in sums.items()}


@torch.no_grad()
def dev_exact_match(module: TrainingModule, tokenizer, task, sources, targets, batch: int = 32) -> float:
    model = module.model
    g = torch.Generator().manual_seed(4321)
    hits = 0
    for a in range(0, len(sources), batch):
        states, mask = module.source_states(sources[a:a + batch])
        out = model.sample(states, mask, k=1, generator=g)
        for row, target in zip(out.ids[:, 0], targets[a:a + batch]):
            hits += task.normalize_for_match(tokenizer.decode(row)) == task.normalize_for_match(target)
    return hits / max(1, len(sources))


# ----------------------------------------------------------------------------- plotting
def plot_metrics(metrics_path: Path, png_path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
    train = [r for r in rows if "loss" in r and r.get("stage") != "eval"]
    evals = [r for r in rows if r.get("stage") == "eval"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "diffusion", "decoder", "ce"):
        axes[0].plot([r["step"] for r in train], [r[key] for r in train], label=key)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("step")
    axes[0].set_title("training loss terms")
    axes[0].legend()
    if evals:
        axes[1].plot([r["step"] for r in evals], [r["dev_loss"] for r in evals], "o-", label="dev loss")
        ax2 = axes[1].twinx()
        ax2.plot([r["step"] for r in evals], [r["dev_em"] for r in evals], "s-", color="C2", label="dev exact match")
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("dev exact match")
        axes[1].legend(loc="upper left")
        ax2.legend(loc="upper right")
    axes[1].set_xlabel("step")
    axes[1].set_title("dev")
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    args = parse_args(argv)
    device = resolve_device(args.device)
    rank, world = setup_distributed(device)
    torch.set_num_threads(max(1, min(args.threads, available_cores() // world)))
    task = get_task(args.task)
    named = get_config(args.config or DEFAULT_CONFIG_FOR_TASK[args.task])
    mcfg, tcfg = named.model, named.train
    apply_train_overrides(tcfg, args)
    if args.lr:
        tcfg.lr = args.lr
    if args.eval_every:
        tcfg.eval_every = tcfg.save_every = args.eval_every
    if args.encoder:
        mcfg.encoder = args.encoder
        mcfg.encoder_trainable = args.encoder == "scratch"
    if args.train_encoder:
        mcfg.encoder_trainable = True
    out = Path(args.out) if args.out else REPO_ROOT / "checkpoints" / args.task
    last_dir = out / "last"
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)

    # ---- data
    data_dir = resolve_data_dir(args.data)
    train_recs, dev_recs = split_records(args.task, load_records(args.task, data_dir))
    configure_task(task, tcfg)
    train_pairs = [task.training_pair(r) for r in train_recs]
    train_pairs += list(task.extra_training_pairs(data_dir))
    dev_pairs = [task.training_pair(r) for r in dev_recs]
    plan = plan_steps(tcfg, args.stage, args.max_steps)
    snippets: list[str] = []
    if plan["pretrain"]:
        snippets = list(task.pretraining_snippets(data_dir))
        rng = random.Random(tcfg.seed)
        if len(snippets) > tcfg.pretrain_snippet_limit:
            snippets = rng.sample(snippets, tcfg.pretrain_snippet_limit)
        snippets += [code for _, code in train_pairs]  # the train codes are code-only data too
    log(rank, f"[{args.task}] train pairs {len(train_pairs)}, dev pairs {len(dev_pairs)}, "
              f"pretraining snippets {len(snippets)}, plan {plan}")

    # ---- model, tokenizers (fresh or resumed)
    resumed = None
    if args.resume and (last_dir / "train_state.pt").is_file():
        resumed = load_checkpoint(last_dir, with_train_state=True)
        model, encoder, tokenizer = resumed.model, resumed.encoder, resumed.tokenizer
        mcfg, tcfg = resumed.model_cfg, resumed.train_cfg
        log(rank, f"resuming from {last_dir} at step {resumed.train_state['step']}")
    else:
        if args.resume:
            log(rank, f"--resume: no {last_dir}/train_state.pt, starting fresh")
        tok_path, enc_tok_path = out / "tokenizer.json", out / "encoder_tokenizer.json"
        if rank == 0:  # one rank trains the tokenizers; the others read them, so all ranks agree exactly
            CodeTokenizer.train([c for _, c in train_pairs] + snippets, tcfg.tokenizer_vocab).save(tok_path)
            if mcfg.encoder == "scratch":
                CodeTokenizer.train([s for s, _ in train_pairs] + snippets, mcfg.scratch_encoder_vocab).save(enc_tok_path)
        if world > 1:
            dist.barrier()
        tokenizer = CodeTokenizer.load(tok_path)
        mcfg.vocab_size = tokenizer.vocab_size
        scratch_tok = CodeTokenizer.load(enc_tok_path) if mcfg.encoder == "scratch" else None
        torch.manual_seed(tcfg.seed)
        encoder = build_encoder(mcfg, scratch_tok, heads=mcfg.n_heads, dropout=mcfg.dropout)
        model = CodeFusion(mcfg, encoder.hidden_size)
    log(rank, f"model parameters: {count_parameters(model) / 1e6:.2f}M (+ encoder {encoder.ref}, "
              f"{count_parameters(encoder) / 1e6:.2f}M, {'trained' if encoder.trainable else 'frozen'})")

    # ---- tensors for the data: targets that do not fit max_code_len (with one pad to end them) are dropped
    def to_tensors(pairs):
        """(ids [N, L], sources, target strings) of the pairs whose code fits."""
        if not pairs:
            return torch.zeros(0, mcfg.max_code_len, dtype=torch.long), [], []
        ids, fits = tokenizer.encode_batch([c for _, c in pairs], mcfg.max_code_len)
        kept = [p for p, ok in zip(pairs, fits.tolist()) if ok]
        return ids[fits], [s for s, _ in kept], [c for _, c in kept]

    train_ids, train_src, train_targets = to_tensors(train_pairs)
    dev_ids, dev_src, dev_targets = to_tensors(dev_pairs)
    log(rank, f"fit in {mcfg.max_code_len} tokens: train {len(train_src)}/{len(train_pairs)}, dev {len(dev_src)}/{len(dev_pairs)}")
    if len(train_src) == 0 and plan["finetune"]:
        raise SystemExit(f"no training pair fits in {mcfg.max_code_len} code tokens; raise max_code_len in the config")
    if not dev_src:  # tiny data sets: select on the train pairs rather than not at all
        dev_ids, dev_src, dev_targets = train_ids, train_src, train_targets
        log(rank, "dev split is empty: model selection uses training pairs")
    snip_ids = torch.zeros(0, mcfg.max_code_len, dtype=torch.long)
    snip_masked: list[str] = []
    if plan["pretrain"]:
        ids, fits = tokenizer.encode_batch(snippets, mcfg.max_code_len)
        snip_ids = ids[fits]
        kept = [s for s, ok in zip(snippets, fits.tolist()) if ok]
        rng = random.Random(tcfg.seed + 1)  # one fixed masking per snippet, so frozen-encoder outputs can be cached
        snip_masked = [mask_identifiers(s, tcfg.mask_frac, encoder.mask_word, rng) for s in kept]

    cache = None if encoder.trainable else EncodingCache(encoder)
    module = TrainingModule(model, encoder, cache).to(device)
    trainable = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    state = {"step": 0, "stage_step": {"pretrain": 0, "finetune": 0}, "best": None}
    if resumed is not None:
        optimizer.load_state_dict(resumed.train_state["optimizer"])
        state = {k: resumed.train_state[k] for k in state}
        torch.set_rng_state(resumed.train_state["rng"]["torch"])
        random.setstate(resumed.train_state["rng"]["python"])
    runner = module
    if world > 1:
        runner = nn.parallel.DistributedDataParallel(
            module, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True)

    metrics_path = out / "metrics.jsonl"
    if rank == 0 and resumed is None and metrics_path.exists():
        metrics_path.unlink()

    def write_metrics(row: dict):
        if rank == 0:
            with open(metrics_path, "a") as f:
                f.write(json.dumps(row) + "\n")

    def save_last():
        if rank == 0:
            train_state = {**state, "optimizer": optimizer.state_dict(), "plan": plan,
                           "rng": {"torch": torch.get_rng_state(), "python": random.getstate()}}
            save_checkpoint(last_dir, model, encoder, tokenizer, tcfg, args.task, train_state)
            if metrics_path.exists():
                plot_metrics(metrics_path, out / "loss_curves.png")

    def evaluate_and_select():
        module.eval()
        if rank == 0:
            n_loss, n_em = tcfg.dev_loss_examples, tcfg.dev_em_examples
            metrics = dev_loss(module, dev_ids[:n_loss], dev_src[:n_loss], tcfg, tcfg.batch_size)
            metrics["dev_em"] = dev_exact_match(module, tokenizer, task, dev_src[:n_em], dev_targets[:n_em])
            write_metrics({"step": state["step"], "stage": "eval", **metrics})
            key = [metrics["dev_em"], -metrics["dev_loss"]]
            improved = state["best"] is None or key > state["best"]
            log(rank, f"\n[eval step {state['step']}] dev loss {metrics['dev_loss']:.4f} ce {metrics['dev_ce']:.4f} "
                      f"exact match {metrics['dev_em']:.3f}{'  (best, saved)' if improved else ''}")
            if improved:
                state["best"] = key
                save_checkpoint(out, model, encoder, tokenizer, tcfg, args.task, extra={"best_step": state["step"], **metrics})
        module.train()
        if world > 1:
            dist.barrier()
            best = [state["best"]]
            dist.broadcast_object_list(best, src=0)
            state["best"] = best[0]

    # ---- encode the requests once (frozen encoder)
    # (all of them before the loop, so that encoding never eats into a stage's share of --time-limit)
    if cache is not None and (plan["finetune"] or plan["pretrain"]):
        t0 = time.time()
        texts = (train_src + dev_src if plan["finetune"] else []) + (snip_masked if plan["pretrain"] else [])
        cache.ensure(texts, progress=rank == 0 and not args.no_progress)
        log(rank, f"cached {len(cache)} request encodings in {time.time() - t0:.1f}s")

    # ---- the loop
    use_bf16 = tcfg.bf16 and (device.type == "cuda" or bf16_is_native())
    log(rank, f"device {device}, threads {torch.get_num_threads()}, bf16 autocast {'on' if use_bf16 else 'off'}")
    deadline = time.time() + args.time_limit * 60 if args.time_limit else None
    total_planned = plan["pretrain"] + plan["finetune"]
    start_time = time.time()
    module.train()
    from tqdm import tqdm
    for stage in ("pretrain", "finetune"):
        stage_len = plan[stage]
        if state["stage_step"][stage] >= stage_len:
            continue
        if stage == "pretrain" and len(snip_ids) == 0:
            log(rank, "no pretraining snippets fit: skipping stage 1")
            continue
        # stage 1 gets its share of the time limit; stage 2 whatever is left
        stage_deadline = deadline
        if deadline and stage == "pretrain" and plan["finetune"]:
            stage_deadline = start_time + (deadline - start_time) * stage_len / total_planned
        bar = tqdm(total=stage_len, initial=state["stage_step"][stage], desc=f"{args.task} {stage}",
                   disable=rank != 0 or args.no_progress, mininterval=2, dynamic_ncols=True)
        window, window_start, window_examples = [], time.time(), 0
        stage_start = time.time()
        while state["stage_step"][stage] < stage_len:
            if args.stop_at_step is not None and state["step"] >= args.stop_at_step:
                break
            if stage_deadline and time.time() > stage_deadline:
                log(rank, f"\ntime limit: ending {stage} at stage step {state['stage_step'][stage]}")
                break
            g = step_generator(tcfg.seed, rank, state["step"])
            B = tcfg.batch_size
            if stage == "pretrain":
                idx = torch.randint(0, len(snip_ids), (B,), generator=g)
                ids = snip_ids[idx]
                uncond = torch.rand(B, generator=g) < tcfg.uncond_frac
                texts = [snip_masked[i] for i, u in zip(idx.tolist(), uncond.tolist()) if not u]
            else:
                idx = torch.randint(0, len(train_ids), (B,), generator=g)
                ids = train_ids[idx]
                uncond = torch.zeros(B, dtype=torch.bool)
                texts = [train_src[i] for i in idx.tolist()]
            # drawn on the CPU from the step's generator, so a run is the same sequence on any device
            t = model.scheduler.sample_timesteps(B, g).to(device)
            noise = torch.randn(B, ids.shape[1], mcfg.embed_dim, generator=g).to(device)
            noise_memory = tuple(x.to(device) for x in model.noise_memory(B, g))
            ids, uncond = ids.to(device), uncond.to(device)
            time_progress = 0.0
            if stage_deadline:
                time_progress = (time.time() - stage_start) / max(1e-9, stage_deadline - stage_start)
            factor = lr_factor(state["stage_step"][stage], stage_len, tcfg.warmup_steps, time_progress)
            for group in optimizer.param_groups:
                group["lr"] = tcfg.lr * factor
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                out_dict = runner(ids, texts, uncond, t, noise, noise_memory)
            out_dict = {k: v.float() for k, v in out_dict.items()}  # loss terms in float32
            terms = loss_terms(out_dict, ids, mcfg.predict, tcfg.ce_pad_weight, tcfg.loss_weights)
            optimizer.zero_grad(set_to_none=True)
            terms["loss"].backward()
            torch.nn.utils.clip_grad_norm_(trainable, tcfg.grad_clip)
            optimizer.step()
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
                write_metrics(row)
                bar.set_postfix(loss=f"{row['loss']:.3f}", ce=f"{row['ce']:.3f}", ex_s=f"{row['examples_per_s']:.0f}")
                window, window_start, window_examples = [], time.time(), 0
            if stage == "finetune" and state["step"] % tcfg.eval_every == 0:
                evaluate_and_select()
                window_start = time.time()  # throughput counts training time only
            if state["step"] % tcfg.save_every == 0:
                save_last()
                window_start = time.time()
        bar.close()
        if stage == "pretrain" and not plan["finetune"] and rank == 0 and not args.stop_at_step:
            save_checkpoint(out, model, encoder, tokenizer, tcfg, args.task, extra={"best_step": state["step"]})
    stopped_early = args.stop_at_step is not None and state["step"] >= args.stop_at_step
    if plan["finetune"] and not stopped_early and state["step"] % tcfg.eval_every != 0:
        evaluate_and_select()  # the final state competes for "best" too
    save_last()
    print(f"rank {rank}/{world}: finished at step {state['step']}", flush=True)
    if rank == 0:
        with open(out / "train_summary.json", "w") as f:
            json.dump({"task": args.task, "steps": state["step"], "plan": plan, "best": state["best"],
                       "seconds": round(time.time() - start_time, 1), "world_size": world}, f, indent=2)
        log(rank, f"done: {state['step']} steps; best model in {out}, resumable state in {last_dir}")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
