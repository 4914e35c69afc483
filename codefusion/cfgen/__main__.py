"""CLI: python -m codefusion.cfgen --n 20000 --seed 0 --out FILE.jsonl [--split train|novel] [--stats]

Writes one JSON triple per line (see generator.py); with --format benchmark, a JSON list of records
in the benchmark's own shape ({"ID", "NL Utterance", "Code", "Data"}), which
`codefusion.data.load_records("cf", path=FILE)` and the evaluation command read, e.g. for the
novel-phrasing dev slice:  python -m codefusion.cfgen --split novel --n 1000 --format benchmark --out novel.json --stats prints counts per rule kind, rejected
draws by reason, the share of distinct requests, and how many gold literals the literal extractor
recovers from the generated requests (the same measure docs/cf_model.md reports for real records).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from ..tasks.cf.literals import PLACEHOLDER, mask_request, mask_target, rule_literal_spans
from .generator import generate


def summarize(triples: list[dict], stats: Counter) -> dict:
    kinds = Counter(t["kind"] for t in triples)
    base = Counter(t["kind"].split("/")[0] for t in triples)
    with_lits = recovered = 0
    for t in triples:
        golds = rule_literal_spans(t["rule"])
        if not golds:
            continue
        with_lits += 1
        masked = mask_request(t["request"], t["table"][0])
        target = mask_target(t["rule"], masked)
        recovered += all(PLACEHOLDER.fullmatch(s.rstrip("%")) for _, _, s in rule_literal_spans(target))
    return {
        "triples": len(triples),
        "distinct_requests": len({t["request"] for t in triples}) / max(1, len(triples)),
        "row_rules": sum(t["kind"].endswith("/row") for t in triples) / max(1, len(triples)),
        "held_out_pieces": sum(t["held_out"] for t in triples) / max(1, len(triples)),
        "literal_records_all_recovered": recovered / max(1, with_lits),
        "by_kind": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
        "by_rule_name": dict(sorted(base.items(), key=lambda kv: -kv[1])),
        "dropped_draws": {k[5:]: v for k, v in sorted(stats.items(), key=lambda kv: -kv[1]) if k.startswith("drop:")},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m codefusion.cfgen", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000, help="number of triples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", choices=("train", "novel"), default="train",
                    help="train: never uses held-out phrasings; novel: every triple uses at least one")
    ap.add_argument("--out", help="output .jsonl (omit to only print --stats)")
    ap.add_argument("--stats", action="store_true", help="print counts per kind and literal recovery")
    ap.add_argument("--wide-share", type=float, help="share of triples from the wide generator (default 0.6)")
    ap.add_argument("--format", choices=("jsonl", "benchmark"), default="jsonl",
                    help="jsonl: one triple per line; benchmark: a JSON list of benchmark-shaped records")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    stats: Counter = Counter()
    triples = generate(args.n, seed=args.seed, split=args.split, stats=stats, wide_share=args.wide_share)
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            if args.format == "benchmark":
                records = [{"ID": i + 1, "NL Utterance": t["request"], "Code": t["rule"], "Data": t["table"],
                            "Kind": t["kind"], **({"Format": t["format"]} if t.get("format") else {})}
                           for i, t in enumerate(triples)]
                json.dump(records, f, ensure_ascii=False)
            else:
                for t in triples:
                    f.write(json.dumps(t, ensure_ascii=False) + "\n")
        print(f"wrote {len(triples)} triples to {path}", file=sys.stderr)
    if args.stats or not args.out:
        print(json.dumps(summarize(triples, stats), indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
