"""Is system A really better than system B? A paired comparison of two prediction files on the same records.

    .venv/bin/python -m benchmarks.paired A.jsonl B.jsonl [more_A.jsonl more_B.jsonl ...] [--metric exec_match]

The files are what `python -m codefusion.evaluate ... --predictions FILE` writes (one JSON object per
record, with "<metric>_rank": the rank of the first hit, or null). Pairs of files are read in order and
pooled (dev, slice A, slice B ... of system A against the same sets of system B). For k = 1, 3, 5 it
prints the hits of each system, the discordant records (A hits and B misses, and the reverse) and the
two-sided exact McNemar p-value: the chance of a split at least this uneven among the discordant
records if neither system were better. Two systems a few records apart usually differ by chance.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def read_ranks(path: str, metric: str) -> list[tuple[str, int | None]]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        if f"{metric}_rank" not in record:
            raise SystemExit(f"{path}:{n}: no {metric}_rank field; write it with codefusion.evaluate --predictions")
        rows.append((str(record.get("id")), record[f"{metric}_rank"]))
    return rows


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar test: binomial(n = discordant, p = 1/2) tail of the smaller count, doubled."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def compare(pairs: list[tuple[list, list]], ks=(1, 3, 5)) -> list[dict]:
    rows = []
    for k in ks:
        a_hits = b_hits = only_a = only_b = n = 0
        for a, b in pairs:
            for (id_a, rank_a), (id_b, rank_b) in zip(a, b, strict=True):
                if id_a != id_b:
                    raise SystemExit(f"the files list different records (id {id_a} against {id_b}): "
                                     "evaluate both systems on the same data and split")
                hit_a, hit_b = rank_a is not None and rank_a <= k, rank_b is not None and rank_b <= k
                a_hits, b_hits, n = a_hits + hit_a, b_hits + hit_b, n + 1
                only_a, only_b = only_a + (hit_a and not hit_b), only_b + (hit_b and not hit_a)
        rows.append({"k": k, "n": n, "a": a_hits, "b": b_hits, "only_a": only_a, "only_b": only_b,
                     "p": mcnemar_exact(only_a, only_b)})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.paired", description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help="prediction files, in pairs: A B [A B ...]")
    p.add_argument("--metric", default="exec_match")
    args = p.parse_args(argv)
    if len(args.files) % 2:
        p.error("give the prediction files in pairs: A.jsonl B.jsonl [A2.jsonl B2.jsonl ...]")
    pairs = []
    for a, b in zip(args.files[::2], args.files[1::2]):
        ranks_a, ranks_b = read_ranks(a, args.metric), read_ranks(b, args.metric)
        if len(ranks_a) != len(ranks_b):
            raise SystemExit(f"{a} has {len(ranks_a)} records and {b} {len(ranks_b)}: not the same evaluation")
        pairs.append((ranks_a, ranks_b))
    print(f"{'k':>2} {'n':>5} {'A hits':>7} {'B hits':>7} {'only A':>7} {'only B':>7} {'McNemar p':>10}")
    for row in compare(pairs):
        print(f"{row['k']:>2} {row['n']:>5} {row['a']:>7} {row['b']:>7} {row['only_a']:>7} {row['only_b']:>7} "
              f"{row['p']:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
