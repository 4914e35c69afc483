"""The autoregressive baseline's command line: train, generate, params."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from ...config import CONFIG_NAMES, DEFAULT_CONFIG_FOR_TASK, get_config
from ...data import TASKS
from ...generate import default_checkpoint_dir
from ...tokenizer import CodeTokenizer
from ...training import apply_train_overrides, available_cores, plan_steps, resolve_device
from .fit import build_pairs, fit, log_to_stderr
from .model import ARConfig, Seq2SeqTransformer, count_parameters
from .system import load_system


def parameter_report(config_name: str, vocab_size: int | None = None) -> dict:
    """Parameter counts of CodeFusion and of the matching AR model (request encoder excluded: both
    share the same frozen one)."""
    from ...model import CodeFusion
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
    torch.set_num_threads(max(1, min(args.threads, available_cores())))
    named = get_config(args.config or DEFAULT_CONFIG_FOR_TASK[args.task])
    tcfg = named.train
    apply_train_overrides(tcfg, args)
    if args.eval_every:
        tcfg.eval_every = args.eval_every
    if args.lr:
        tcfg.lr = args.lr
    cfg = ARConfig.matching(named.model)
    plan = plan_steps(tcfg, args.stage, args.max_steps)
    out = Path(args.out) if args.out else default_checkpoint_dir(f"ar-{args.task}")
    train_pairs, dev_pairs, snippets = build_pairs(args.task, args.data, tcfg, pretrain=plan["pretrain"] > 0)
    log_to_stderr(f"[{args.task}] train pairs {len(train_pairs)}, dev pairs {len(dev_pairs)}, "
         f"pretraining snippets {len(snippets)}, plan {plan}")
    tokenizer = CodeTokenizer.load(args.tokenizer) if args.tokenizer else None
    initial_weights = None
    if args.init:
        initial = load_ar_checkpoint(args.init)
        cfg, tokenizer, initial_weights = initial.cfg, initial.tokenizer, initial.model.state_dict()
    fit(args.task, train_pairs, dev_pairs, cfg, tcfg, plan=plan, snippets=snippets, tokenizer=tokenizer, out=out,
        time_limit=args.time_limit, progress=not args.no_progress, device=resolve_device(args.device),
        initial_weights=initial_weights)
    return 0


def _generate_command(args) -> int:
    from ...generate import _read_table
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
    t.add_argument("--init", help="start from this autoregressive checkpoint's weights, config and tokenizer")
    t.add_argument("--lr", type=float, help="override the config's peak learning rate")
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
