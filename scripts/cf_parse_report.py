"""How much of the CodeFusion CF data the rule parser accepts.

    python scripts/cf_parse_report.py [--data DIR] [--show N]

Parses every `Code` of codefusion/train/cf_train.json and every unique non-empty line of
codefusion/pretraining/ConditionalFormattingSnippets.txt under the data directory
(--data, else $CODEFUSION_DATA, else ../shared/data next to the repository), prints the counts
and lists what does not parse with the parser's reason. Office Scripts fragments, empty
arguments (`TextEquals()`) and unbalanced parentheses are expected failures, counted by kind.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cf_rules.errors import RuleSyntaxError  # noqa: E402
from cf_rules.parser import parse  # noqa: E402
from cf_rules.printer import to_canonical  # noqa: E402


def data_dir(cli_value: str | None) -> Path:
    if cli_value:
        return Path(cli_value)
    if os.environ.get("CODEFUSION_DATA"):
        return Path(os.environ["CODEFUSION_DATA"])
    return REPO.parent / "shared" / "data"


def failure_kind(code: str) -> str:
    if not code.strip():
        return "empty"
    if "formula2:" in code or "ExcelScript." in code or "conditionalFormatting" in code:
        return "Office Scripts fragment"
    if code.count("(") != code.count(")"):
        return "unbalanced parentheses"
    if re.search(r"\(\s*\)", code) and not re.search(r"\b(top|bottom|ColorScale|DataBar|IconSet)\(", code, re.I):
        return "empty argument"
    return "other"


def check(codes: list[str]) -> tuple[int, list[tuple[str, RuleSyntaxError]], int]:
    """(how many parse, failures with their error, how many are not print-stable)."""
    ok, failures, unstable = 0, [], 0
    for code in codes:
        try:
            rule = parse(code)
        except RuleSyntaxError as exc:
            failures.append((code, exc))
            continue
        ok += 1
        printed = to_canonical(rule)
        if parse(printed) != rule or to_canonical(parse(printed)) != printed:
            unstable += 1
    return ok, failures, unstable


def report(title: str, codes: list[str], show: int) -> None:
    ok, failures, unstable = check(codes)
    kinds = Counter(failure_kind(code) for code, _ in failures)
    print(f"{title}: {ok}/{len(codes)} parse ({100 * ok / max(len(codes), 1):.1f}%); "
          f"{len(failures)} do not: " + (", ".join(f"{n} {k}" for k, n in kinds.most_common()) or "none")
          + f"; print round trip unstable for {unstable}")
    for code, exc in failures[:show]:
        shown = code if len(code) <= 90 else code[:87] + "..."
        print(f"  [{failure_kind(code)}] {shown!r}\n      -> {exc.message}")
    if len(failures) > show:
        print(f"  ... and {len(failures) - show} more")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="directory holding codefusion/ (default: $CODEFUSION_DATA or ../shared/data)")
    ap.add_argument("--show", type=int, default=50, help="list at most this many failures per file")
    args = ap.parse_args(argv)
    root = data_dir(args.data) / "codefusion"
    train_file = root / "train" / "cf_train.json"
    snippets_file = root / "pretraining" / "ConditionalFormattingSnippets.txt"
    if not train_file.is_file():
        print(f"error: {train_file} not found; pass --data DIR or set CODEFUSION_DATA", file=sys.stderr)
        return 2
    records = json.loads(train_file.read_text(encoding="utf-8"))
    report(f"train ({train_file.name})", [r["Code"] for r in records], args.show)
    if snippets_file.is_file():
        lines = snippets_file.read_text(encoding="utf-8").splitlines()
        unique = list(dict.fromkeys(line.strip() for line in lines if line.strip()))
        report(f"pretraining ({snippets_file.name}, unique lines)", unique, args.show)
    else:
        print(f"(no {snippets_file} - skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
