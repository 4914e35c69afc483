"""Latency of the Bash/Python generators, split into the model (encoder + draws) and the candidate ranking.

    .venv/bin/python -m benchmarks.bench_code_candidates [--task bash] [-n 100] [-k 5] [--threads 2]

Requests are the first n dev requests (codefusion.data's hash split). For each, `generate` runs once with
seed 0; the ranking part (CodeRanker over the draws and the 16 neighbours) is timed on its own from the
same draws. Prints p50/p95 of both and of the total, and the load average, since the box is shared.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", default="bash", choices=("bash", "python"))
    p.add_argument("-n", type=int, default=100)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    from codefusion.data import load_records, split_records
    from codefusion.generate import load_generator
    generator = load_generator(args.task)
    requests = [r.nl for r in split_records(args.task, load_records(args.task))[1][:args.n]]
    generator.generate(requests[0], k=args.k, seed=0)   # warm-up
    totals, ranking = [], []
    for request in requests:
        start = time.perf_counter()
        out = generator._sample(request, None, args.k, None, 0, False)
        between = time.perf_counter()
        generator._candidates(out, request, None, args.k)
        end = time.perf_counter()
        totals.append((end - start) * 1000)
        ranking.append((end - between) * 1000)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.task}: n={len(requests)} k={args.k} threads={args.threads} load average {load:.1f}")
    for name, values in (("total", totals), ("ranking", ranking),
                         ("model", [t - r for t, r in zip(totals, ranking)])):
        print(f"  {name:8s} p50 {statistics.median(values):7.1f} ms   p95 {_pct(values, 0.95):7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
