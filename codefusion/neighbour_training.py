"""Fine-tune a Bash/Python CodeFusion checkpoint into a retrieval-augmented one (neighbour memory, self-conditioning).

    python -m codefusion.neighbour_training --task bash [--init checkpoints/bash] [--out runs/ra-bash]
        [--neighbours 2] [--self-condition] [--time-limit MIN] [--max-steps N] [--batch-size 32] [--lr 3e-4]
        [--eval-every 100] [--resume] [--threads 1]

The network of the `--init` checkpoint (same tokenizer, same frozen MiniLM encoder) gets the optional parts
of model.py: a NeighbourMemory (the codes of the m nearest train pairs, codefusion/neighbours.py, are extra
rows of the memory that denoiser and decoder cross-attend to) and, with --self-condition, the denoiser's
projection of its previous x0 estimate (zero at first, so training starts from the init model's function).
Every train pair's neighbours are found among the other train pairs (the pair itself excluded), a dev
request's among all train pairs, as at generation time.

Model selection reads the LAST 200 dev records (template match for Bash, BLEU for Python, one sample each),
so the first 300, which README/docs report, take no part in any choice. Output: the best model at --out
(with `neighbours` and `init` recorded in config.json), the resumable state in --out/last, metrics.jsonl.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .data import REPO_ROOT, load_records, resolve_data_dir, split_records
from .encoders import EncodingCache
from .losses import loss_terms
from .model import CodeFusion, count_parameters
from .neighbours import Datastore
from .tasks import get_task
from .training import optimizer_step

SELECTION_RECORDS = 200


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m codefusion.neighbour_training", description=__doc__.split("\n\n")[0])
    p.add_argument("--task", required=True, choices=("bash", "python"))
    p.add_argument("--init", help="checkpoint to start from (default <repo>/checkpoints/<task>)")
    p.add_argument("--out", help="output dir (default <repo>/runs/ra-<task>)")
    p.add_argument("--data", help="data dir holding codefusion/ (default: $CODEFUSION_DATA or ../shared/data)")
    p.add_argument("--neighbours", type=int, default=2)
    p.add_argument("--self-condition", action="store_true")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--max-steps", type=int, default=20000)
    p.add_argument("--time-limit", type=float, help="minutes; anneal the learning rate on time and stop cleanly")
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


def neighbour_table(store: Datastore, queries: np.ndarray, m: int, exclude_self: bool) -> np.ndarray:
    """[Q, m] store indices of each query's neighbours (query i is store row i when `exclude_self`)."""
    out = []
    for a in range(0, len(queries), 1024):
        exclude = list(range(a, min(a + 1024, len(queries)))) if exclude_self else None
        out.append(store.nearest(queries[a:a + 1024], m, exclude)[0])
    return np.concatenate(out)


def lr_at(step: int, total: int, warmup: int, time_progress: float) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = max((step - warmup) / max(1, total - warmup), time_progress)
    return 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress)))


@torch.no_grad()
def selection_score(model, cache, tokenizer, task_name, sources, targets, nb_ids) -> float:
    """Bash: template match of one sample; Python: corpus BLEU of one sample (one fixed seed)."""
    from .metrics.bash_template import template_match
    from .metrics.bleu import corpus_bleu
    g = torch.Generator().manual_seed(4321)
    codes = []
    for a in range(0, len(sources), 32):
        states, mask = cache.get(sources[a:a + 32])
        out = model.sample(states.float(), mask, k=1, steps=model.cfg.sampling_steps, generator=g,
                           neighbour_ids=nb_ids[a:a + 32])
        codes += tokenizer.decode_batch(out.ids[:, 0])
    if task_name == "bash":
        return sum(template_match(t, c) for t, c in zip(targets, codes)) / max(1, len(targets))
    return corpus_bleu(targets, codes) / 100.0


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else REPO_ROOT / "runs" / f"ra-{args.task}"
    last = out / "last"
    task = get_task(args.task)
    resumed = args.resume and (last / "train_state.pt").is_file()
    ck = load_checkpoint(last if resumed else (args.init or REPO_ROOT / "checkpoints" / args.task),
                         with_train_state=resumed)
    encoder, tokenizer, tcfg = ck.encoder.eval(), ck.tokenizer, ck.train_cfg
    if resumed:
        model, cfg, init = ck.model, ck.model_cfg, ck.meta.get("init")
    else:
        cfg = replace(ck.model_cfg, neighbours=args.neighbours, self_condition=args.self_condition)
        model = CodeFusion(cfg, encoder.hidden_size)
        missing = model.load_state_dict(ck.model.state_dict(), strict=False).missing_keys
        assert all(k.startswith(("neighbour_memory.", "denoiser.self_cond.")) for k in missing), missing
        init = str(args.init or f"checkpoints/{args.task}")
    m, L = cfg.neighbours, cfg.max_code_len

    data_dir = resolve_data_dir(args.data)
    train_recs, dev_recs = split_records(args.task, load_records(args.task, data_dir))
    store = Datastore.for_task(args.task, data_dir)
    if store.codes != [r.code.strip() for r in train_recs]:
        raise SystemExit("the datastore does not hold the train split in order; rebuild it (neighbours build --rebuild)")
    store_ids, _ = tokenizer.encode_batch(store.codes, L)
    train_nb = neighbour_table(store, store.embeddings, m, exclude_self=True)
    dev_recs = dev_recs[-SELECTION_RECORDS:]
    dev_nb = neighbour_table(store, store.embed([r.nl for r in dev_recs]), m, exclude_self=False)

    pairs = [task.training_pair(r) for r in train_recs]
    ids, fits = tokenizer.encode_batch([c for _, c in pairs], L)
    keep = fits.nonzero().squeeze(1)
    train_ids, train_src = ids[keep], [pairs[i][0] for i in keep.tolist()]
    train_nb_ids = store_ids[torch.as_tensor(train_nb)][keep]                       # [N, m, L]
    dev_src = [task.training_pair(r)[0] for r in dev_recs]
    dev_targets = [r.code.strip() for r in dev_recs]
    dev_nb_ids = store_ids[torch.as_tensor(dev_nb)]
    cache = EncodingCache(encoder)
    t0 = time.time()
    cache.ensure(train_src + dev_src)
    print(f"[{args.task}] {len(train_src)} train pairs fit, {m} neighbours each; {len(dev_src)} selection records; "
          f"encoded in {time.time() - t0:.0f}s; {count_parameters(model) / 1e6:.2f}M parameters", flush=True)

    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr,
                                  weight_decay=tcfg.weight_decay)
    state = {"step": 0, "best": None}
    if resumed:
        optimizer.load_state_dict(ck.train_state["optimizer"])
        state = {"step": ck.train_state["step"], "best": ck.train_state["best"]}
    out.mkdir(parents=True, exist_ok=True)
    metrics = out / "metrics.jsonl"
    extra = {"init": init, "neighbour_store": {"task": args.task, "pairs": len(store), **store.source},
             "selection": f"last {SELECTION_RECORDS} dev records"}

    def evaluate():
        model.eval()
        score = selection_score(model, cache, tokenizer, args.task, dev_src, dev_targets, dev_nb_ids)
        model.train()
        row = {"step": state["step"], "stage": "eval", "selection": score}
        with open(metrics, "a") as f:
            f.write(json.dumps(row) + "\n")
        improved = state["best"] is None or score > state["best"]
        print(f"[eval step {state['step']}] selection score {score:.3f}{' (best, saved)' if improved else ''}",
              flush=True)
        if improved:
            state["best"] = score
            save_checkpoint(out, model, encoder, tokenizer, tcfg, args.task, extra={**extra, "best_step": state["step"],
                                                                                    "selection_score": score})

    def save_last():
        save_checkpoint(last, model, encoder, tokenizer, tcfg, args.task, extra=extra,
                        train_state={"step": state["step"], "best": state["best"], "optimizer": optimizer.state_dict()})

    if state["best"] is None:
        evaluate()   # the init model (neighbour memory untrained) is the baseline to beat
    deadline = time.time() + args.time_limit * 60 if args.time_limit else None
    start, window = time.time(), []
    model.train()
    while state["step"] < args.max_steps:
        if deadline and time.time() > deadline:
            print(f"time limit: stopping at step {state['step']}", flush=True)
            break
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + state["step"])
        idx = torch.randint(0, len(train_ids), (args.batch_size,), generator=g)
        ids_b, nb_b = train_ids[idx], train_nb_ids[idx]
        states, smask = cache.get([train_src[i] for i in idx.tolist()])
        t = model.scheduler.sample_timesteps(len(idx), g)
        noise = torch.randn(len(idx), L, cfg.embed_dim, generator=g)
        self_cond = torch.rand(len(idx), generator=g) < 0.5 if cfg.self_condition else None
        progress = (time.time() - start) / (deadline - start) if deadline else 0.0
        for group in optimizer.param_groups:
            group["lr"] = args.lr * lr_at(state["step"], args.max_steps, 50, progress)
        result = model(ids_b, model.project_source(states.float()), smask, t, noise, neighbour_ids=nb_b,
                       self_condition=self_cond)
        terms = loss_terms(result, ids_b, cfg.predict, tcfg.ce_pad_weight, tcfg.loss_weights)
        optimizer_step(terms["loss"], optimizer, list(model.parameters()), tcfg.grad_clip)
        state["step"] += 1
        window.append({k: float(v.detach()) for k, v in terms.items()})
        if state["step"] % 10 == 0:
            row = {"step": state["step"], **{k: sum(w[k] for w in window) / len(window) for k in window[0]}}
            with open(metrics, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"step {state['step']} loss {row['loss']:.3f} ce {row['ce']:.3f} "
                  f"({(time.time() - start) / 60:.1f} min)", flush=True)
            window = []
        if state["step"] % args.eval_every == 0:
            evaluate()
            save_last()
    evaluate()
    save_last()
    (out / "train_summary.json").write_text(json.dumps({"task": args.task, "steps": state["step"], "best": state["best"],
                                                        "seconds": round(time.time() - start, 1), **extra}, indent=2))
    print(f"done: {state['step']} steps, best selection score {state['best']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
