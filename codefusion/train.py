"""Train CodeFusion for one task.

    python -m codefusion.train --task {cf,bash,python} [--config NAME] [--stage pretrain|finetune|all]
        [--max-steps N] [--out DIR] [--data DIR] [--seed S] [--resume] [--batch-size B] [--time-limit MIN]
    torchrun --nproc_per_node 2 -m codefusion.train ...        (DDP, gloo on CPU)

The stages, batch draws, schedule and model selection are codefusion.training's. Stage 1 (pretrain),
code only: each row is either unconditional generation (a Gaussian "noise encoding" stands in for the
request) or continuous paragraph denoising (the encoder reads the code with a share of identifiers
replaced by a mask word; the model reconstructs the full code). Stage 2 (finetune): (source_text, code)
pairs. Dev loss and a sampled dev exact match pick the best checkpoint.

Output dir: the best model at the top (model.safetensors, config.json, tokenizer.json), the latest state
for --resume in last/ (with train_state.pt), metrics.jsonl and loss_curves.png.
Every step draws its batch, timesteps and noise from a generator seeded by (seed, rank, step), so a
resumed run continues exactly where it stopped.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from .checkpoint import load_checkpoint, save_checkpoint
from .config import DEFAULT_CONFIG_FOR_TASK, CONFIG_NAMES, get_config
from .data import REPO_ROOT, TASKS
from .encoders import EncodingCache, build_encoder
from .losses import loss_terms
from .model import CodeFusion, count_parameters
from .tasks import get_task
from .tokenizer import CodeTokenizer
from .training import (TrainingTensors, apply_train_overrides, available_cores, build_pairs, configure_task,
                       make_optimizer, new_state, plan_steps, resolve_device, run_stages, setup_distributed,
                       use_bf16)

__all__ = ["main", "parse_args", "TrainingModule", "CodeFusionTrainee", "apply_train_overrides", "configure_task",
           "plan_steps", "resolve_device"]


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


# ----------------------------------------------------------------------------- command line
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
    p.add_argument("--init", help="start from this checkpoint's weights, config and tokenizer (fresh optimizer "
                                  "and schedule), e.g. to continue training a shipped model on new data")
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


_T0 = time.time()


def log(rank, *msg):
    if rank == 0:
        print(f"[{time.time() - _T0:6.1f}s]", *msg, file=sys.stderr, flush=True)


class CodeFusionTrainee:
    """CodeFusion's loss on a batch (diffusion, decoder and cross-entropy terms) and its sampler as the
    dev decoder, for codefusion.training's loop. `runner` is the module itself or its DDP wrapper."""

    def __init__(self, module: TrainingModule, runner: nn.Module, tokenizer: CodeTokenizer, tcfg, device, bf16: bool):
        self.module, self.runner, self.tokenizer, self.tcfg = module, runner, tokenizer, tcfg
        self.device, self.bf16 = device, bf16

    def train(self, mode: bool = True):
        self.module.train(mode)

    def loss(self, ids, texts, uncond, generator):
        model, device, B = self.module.model, self.device, ids.shape[0]
        texts = [text for text, u in zip(texts, uncond.tolist()) if not u]   # the others read a noise encoding
        # drawn on the CPU from the step's generator, so a run is the same sequence on any device
        t = model.scheduler.sample_timesteps(B, generator).to(device)
        noise = torch.randn(B, ids.shape[1], model.cfg.embed_dim, generator=generator).to(device)
        noise_memory = tuple(x.to(device) for x in model.noise_memory(B, generator))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
            out = self.runner(ids, texts, uncond.to(device), t, noise, noise_memory)
        out = {k: v.float() for k, v in out.items()}  # loss terms in float32
        return loss_terms(out, ids, model.cfg.predict, self.tcfg.ce_pad_weight, self.tcfg.loss_weights)

    @torch.no_grad()
    def dev_loss(self, ids, sources, batch: int | None = None) -> dict:
        g = torch.Generator().manual_seed(1234)  # same t and noise every evaluation: losses are comparable
        model, device = self.module.model, self.device
        batch = batch or self.tcfg.batch_size
        sums, n = {"loss": 0.0, "ce": 0.0}, 0
        for a in range(0, len(sources), batch):
            b_ids, b_src = ids[a:a + batch], sources[a:a + batch]
            B = b_ids.shape[0]
            t = model.scheduler.sample_timesteps(B, g).to(device)
            noise = torch.randn(B, b_ids.shape[1], model.cfg.embed_dim, generator=g).to(device)
            noise_memory = tuple(x.to(device) for x in model.noise_memory(B, g))
            b_ids = b_ids.to(device)
            out = self.module(b_ids, b_src, torch.zeros(B, dtype=torch.bool, device=device), t, noise, noise_memory)
            terms = loss_terms(out, b_ids, model.cfg.predict, self.tcfg.ce_pad_weight, self.tcfg.loss_weights)
            for k in sums:
                sums[k] += float(terms[k]) * B
            n += B
        return {f"dev_{k}": v / max(1, n) for k, v in sums.items()}

    @torch.no_grad()
    def decode(self, sources, batch: int = 32) -> list[str]:
        g = torch.Generator().manual_seed(4321)
        decoded = []
        for a in range(0, len(sources), batch):
            states, mask = self.module.source_states(sources[a:a + batch])
            out = self.module.model.sample(states, mask, k=1, generator=g)
            decoded += [self.tokenizer.decode(row) for row in out.ids[:, 0]]
        return decoded


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
    plan = plan_steps(tcfg, args.stage, args.max_steps)
    train_pairs, dev_pairs, snippets = build_pairs(task, args.data, tcfg, pretrain=plan["pretrain"] > 0)
    log(rank, f"[{args.task}] train pairs {len(train_pairs)}, dev pairs {len(dev_pairs)}, "
              f"pretraining snippets {len(snippets)}, plan {plan}")

    # ---- model, tokenizers (fresh or resumed)
    resumed = None
    if args.resume and (last_dir / "train_state.pt").is_file():
        resumed = load_checkpoint(last_dir, with_train_state=True)
        model, encoder, tokenizer = resumed.model, resumed.encoder, resumed.tokenizer
        mcfg, tcfg = resumed.model_cfg, resumed.train_cfg
        log(rank, f"resuming from {last_dir} at step {resumed.train_state['step']}")
    elif args.init:
        initial = load_checkpoint(args.init)
        model, encoder, tokenizer, mcfg = initial.model, initial.encoder, initial.tokenizer, initial.model_cfg
        if rank == 0:
            tokenizer.save(out / "tokenizer.json")
        log(rank, f"initialised from {args.init}")
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
    data = TrainingTensors.build(tokenizer, mcfg.max_code_len, train_pairs, dev_pairs, snippets, tcfg,
                                 encoder.mask_word, log=lambda *m: log(rank, *m))
    if len(data.train_src) == 0 and plan["finetune"]:
        raise SystemExit(f"no training pair fits in {mcfg.max_code_len} code tokens; raise max_code_len in the config")

    cache = None if encoder.trainable else EncodingCache(encoder)
    module = TrainingModule(model, encoder, cache).to(device)
    trainable = [p for p in module.parameters() if p.requires_grad]
    optimizer = make_optimizer(trainable, tcfg)
    state = new_state()
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

    def save_best(step: int, metrics: dict):
        save_checkpoint(out, model, encoder, tokenizer, tcfg, args.task, extra={"best_step": step, **metrics})

    # ---- encode the requests once (frozen encoder)
    # (all of them before the loop, so that encoding never eats into a stage's share of --time-limit)
    if cache is not None and (plan["finetune"] or plan["pretrain"]):
        t0 = time.time()
        texts = (data.train_src + data.dev_src if plan["finetune"] else []) + (data.snip_masked if plan["pretrain"] else [])
        cache.ensure(texts, progress=rank == 0 and not args.no_progress)
        log(rank, f"cached {len(cache)} request encodings in {time.time() - t0:.1f}s")

    # ---- the loop
    bf16 = use_bf16(tcfg, device)
    log(rank, f"device {device}, threads {torch.get_num_threads()}, bf16 autocast {'on' if bf16 else 'off'}")
    start_time = time.time()
    trainee = CodeFusionTrainee(module, runner, tokenizer, tcfg, device, bf16)
    run_stages(trainee, data, task, tcfg, plan, optimizer, trainable, state, device=device, on_best=save_best,
               record=write_metrics, on_save=save_last, log=lambda *m: log(rank, *m), label=args.task,
               rank=rank, world=world, time_limit=args.time_limit, stop_at_step=args.stop_at_step,
               progress=not args.no_progress)
    if plan["pretrain"] and not plan["finetune"] and rank == 0 and not args.stop_at_step:
        save_checkpoint(out, model, encoder, tokenizer, tcfg, args.task, extra={"best_step": state["step"]})
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
