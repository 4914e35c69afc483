"""How close are generated CF requests to a set of real ones? N-gram overlap and near copies.

    python -m benchmarks.ngram_overlap [--reference FILE] [--n 5000] [--seed 0] [--split train]
                                      [--generated FILE.jsonl] [--wide-share X] [--json OUT]

Reads the reference requests (default: the realistic evaluation set) only to count overlaps; it
prints figures, never a request, so the set can be measured without being read. Reported:

- for n = 1..4, the share of the reference's distinct word n-grams that occur anywhere in the
  generated requests (coverage: how much of the way people write the generator also writes), and
  the share of the generated requests' n-gram occurrences that occur in the reference;
- near copies: for each reference request, the highest Jaccard similarity of its word 3-grams with
  any generated request (mean, 95th percentile, max, and how many are above 0.5 and 0.8), and the
  number of generated requests equal to a reference request after normalisation.

Chinese and Japanese text counts each character as a word.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cf_realistic" / "dev.json"
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]|[^\W_]+|[^\w\s]", re.UNICODE)


def words(text: str) -> list[str]:
    return _TOKEN.findall(" ".join(str(text).lower().split()))


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def overlap_report(reference: list[str], generated: list[str]) -> dict:
    ref_tokens = [words(t) for t in reference]
    gen_tokens = [words(t) for t in generated]
    report: dict = {"reference_requests": len(reference), "generated_requests": len(generated)}
    for n in (1, 2, 3, 4):
        ref_set = {g for toks in ref_tokens for g in ngrams(toks, n)}
        gen_all = [g for toks in gen_tokens for g in ngrams(toks, n)]
        gen_set = set(gen_all)
        report[f"reference_{n}grams_covered"] = round(len(ref_set & gen_set) / max(1, len(ref_set)), 4)
        report[f"generated_{n}gram_occurrences_in_reference"] = round(
            sum(g in ref_set for g in gen_all) / max(1, len(gen_all)), 4)
    index: dict[tuple, list[int]] = defaultdict(list)
    gen_sets = [set(ngrams(toks, 3)) for toks in gen_tokens]
    for i, grams in enumerate(gen_sets):
        for g in grams:
            index[g].append(i)
    best = []
    for toks in ref_tokens:
        grams = set(ngrams(toks, 3))
        candidates = {i for g in grams for i in index.get(g, ())}
        score = 0.0
        for i in candidates:
            union = len(grams | gen_sets[i])
            score = max(score, len(grams & gen_sets[i]) / union if union else 0.0)
        best.append(score)
    ordered = sorted(best)
    report["nearest_3gram_jaccard_mean"] = round(sum(best) / max(1, len(best)), 4)
    report["nearest_3gram_jaccard_p95"] = round(ordered[int(0.95 * (len(ordered) - 1))], 4) if ordered else 0.0
    report["nearest_3gram_jaccard_max"] = round(max(best, default=0.0), 4)
    report["reference_with_nearest_above_0.5"] = sum(s > 0.5 for s in best)
    report["reference_with_nearest_above_0.8"] = sum(s > 0.8 for s in best)
    normalised = {" ".join(t) for t in ref_tokens}
    report["generated_equal_to_a_reference_request"] = sum(" ".join(t) in normalised for t in gen_tokens)
    return report


def _reference_requests(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    records = data if isinstance(data, list) else [r for part in data.values() for r in part]
    return [r["NL Utterance"] for r in records if r.get("NL Utterance")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ngram_overlap", description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE, help="benchmark JSON with 'NL Utterance'")
    ap.add_argument("--generated", type=Path, help="cfgen JSONL to measure (default: generate --n triples)")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", choices=("train", "novel"), default="train")
    ap.add_argument("--wide-share", type=float, help="share of wide triples (default: the generator's)")
    ap.add_argument("--json", type=Path, help="also write the report here")
    args = ap.parse_args(argv)
    if args.generated:
        generated = [json.loads(line)["request"] for line in args.generated.read_text(encoding="utf-8").splitlines()
                     if line.strip()]
        source = str(args.generated)
    else:
        from codefusion.cfgen import generate
        extra = {} if args.wide_share is None else {"wide_share": args.wide_share}
        generated = [t["request"] for t in generate(args.n, seed=args.seed, split=args.split, **extra)]
        source = f"cfgen n={args.n} seed={args.seed} split={args.split}" + (
            f" wide_share={args.wide_share}" if args.wide_share is not None else "")
    report = {"generated_from": source, "reference": str(args.reference),
              **overlap_report(_reference_requests(args.reference), generated)}
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
