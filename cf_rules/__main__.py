"""Command line for the rule language.

    python -m cf_rules parse RULE
        prints the canonical rule and a plain-English explanation (exit 0), or the syntax error
        with a caret under the rule (exit 1)
    python -m cf_rules run RULE --table FILE [--sheet S --range A1:D20]
                                        [--today YYYY-MM-DD] [--columns 1,2]
        prints JSON {"rule", "explanation", "cells", "visual"?}; a JSON table is placed at A1

Exit codes: 0 success, 1 a bad rule or table (message on stderr), 2 bad usage (argparse).
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from .errors import RuleError, RuleSyntaxError


def _parse_today(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2024-05-20")


def _parse_columns(text: str) -> list[int]:
    try:
        columns = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of column numbers; write e.g. 1,2")
    if not columns or any(c < 0 for c in columns):
        raise argparse.ArgumentTypeError(f"{text!r}: give 0-based column numbers, e.g. 1 or 0,2")
    return columns


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cf_rules",
                                     description="Check and run Excel conditional-formatting rules.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("parse", help="print the canonical rule and its explanation")
    check.add_argument("rule", help="a rule, e.g. 'GreaterThan(500)' or '=$B2>100'")
    run = commands.add_parser("run", help="show which cells of a table the rule formats")
    run.add_argument("rule")
    run.add_argument("--table", required=True, help="a .json table [[header...], ...] or an .xlsx workbook")
    run.add_argument("--sheet", help="worksheet name (xlsx; default the active sheet)")
    run.add_argument("--range", dest="cell_range", help="table range with its header row, e.g. A1:D20 (xlsx)")
    run.add_argument("--today", type=_parse_today, help="the date for Today()/ThisWeek()... (default today)")
    run.add_argument("--columns", type=_parse_columns,
                     help="0-based table columns a cell rule applies to, e.g. 1,2 (default all)")
    return parser


def format_error(error: RuleError) -> str:
    """A rule error for a terminal: message, the rule with a caret under the position,
    what was expected, and the hint."""
    lines = [f"error: {error.message}"]
    if isinstance(error, RuleSyntaxError):
        rule_line = error.rule.replace("\n", " ").replace("\t", " ")
        lines += ["  " + rule_line, "  " + " " * max(0, min(error.position, len(rule_line))) + "^"]
        if error.expected:
            lines.append("expected: " + ", ".join(error.expected))
    if error.hint:
        lines.append(f"hint: {error.hint}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .executor import execute
    from .explain import explain
    from .parser import parse
    from .printer import to_canonical
    from .table import load_table

    try:
        rule = parse(args.rule)
        if args.command == "parse":
            print(to_canonical(rule))
            print(explain(rule))
            return 0
        table = load_table(args.table, sheet=args.sheet, range=args.cell_range)
        result = execute(rule, table, today=args.today, columns=args.columns)
        out = {"rule": to_canonical(rule), "explanation": explain(rule, table.header), "cells": result.cells}
        if _is_visual(rule):
            out["visual"] = result.visual
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    except RuleError as e:
        print(format_error(e), file=sys.stderr)
        return 1


def _is_visual(rule) -> bool:
    from .syntax import CATALOGUE, Condition
    return isinstance(rule, Condition) and CATALOGUE[rule.name].family == "visual"


if __name__ == "__main__":
    sys.exit(main())
