"""Execution match for conditional-formatting rules, two ways.

`exec_match` (whole-table semantics, the product's): the candidate is painted as the service
paints it on the record's whole table (`cf_rules.paint`: its paint target, or when it has none, a
cell rule on every cell and a row rule on whole rows) and must format exactly the cells the
reference formats there. The reference is painted as its record's optional `Format` says
("cells": the tested column's cells, "rows": whole rows); without one, like a candidate without a
paint target. On the benchmark's Index/Value tables a cell rule formats the Value column only, so
there both semantics agree.

`exec_match_value` (the benchmark's own): rules are evaluated with `columns=[1]`. Choices, and why:

- The table is the record's `Data` (`table_from_json`, header in row 1) and rules are evaluated
  with `columns=[1]`: the benchmark formats the `Value` column only. Extra columns (`Score`,
  `Point`, `ID`, `Count`) are context, and a rule without a column must not be tested on them.
  Row rules (`c[i]` conditions) still read whichever columns they name.
- Visual rules (ColorScale, DataBar, IconSet) paint every numeric cell, so the cell set alone
  says little; they match when the rule *kind* is the same (a colour scale matches a colour
  scale, not a data bar) and the painted cells are the same. Colours, bar lengths and icon
  styles are not compared: the benchmark's NL rarely pins them down and its labels do not either.
- Ties are whatever the executor does: `top(3)` and `top(4)` match on a table where both format
  the same cells. That is the point of execution match: equal behaviour on this table, not
  equal text.
- When the table has no data rows, or the reference itself does not parse or does not run (the
  executor rejects it), execution says nothing; then the canonical forms are compared
  (`to_canonical(parse(...))` of both), which is exact match modulo spelling and spacing.
- A candidate that does not parse never matches, and one that parses but does not run on a
  table where the reference runs does not match either.
- `valid` means the candidate parses (the grammar check, not execution).

The record's `Labels` are not used: in about a quarter of the records they are shorter than the
table (e.g. `[0]`), so they cannot serve as the ground truth for every record.
"""
from __future__ import annotations

from dataclasses import dataclass

from cf_rules.syntax import CATALOGUE, Condition
from cf_rules.errors import RuleError
from cf_rules.executor import execute
from cf_rules.paint import Paint, own_paint, painted, tested_columns
from codefusion.tasks.cf.adapter import benchmark_columns
from cf_rules.parser import parse
from cf_rules.printer import to_canonical
from cf_rules.table import table_from_json

VALUE_COLUMNS = [1]  # the benchmark tables' "Value" column (0-based)


def default_paint(rule, table) -> Paint:
    """What the service paints for a rule that says nothing more: a cell rule every cell of the
    selection (the Value column on a benchmark table), a visual rule its column, a row rule whole rows."""
    if not tested_columns(rule, table) and benchmark_columns(table) is not None:
        return Paint("cells", VALUE_COLUMNS[0])
    return own_paint(rule, table)


def format_paint(rule, table, fmt: str | None) -> Paint:
    """The paint a benchmark record's `Format` field asks for ("cells" or "rows")."""
    columns = sorted(tested_columns(rule, table))
    if fmt == "cells" and len(columns) == 1:
        return Paint("cells", columns[0])
    if fmt == "rows" and columns and not _visual(rule):
        return Paint("rows")
    return default_paint(rule, table)


def _visual(rule) -> bool:
    return isinstance(rule, Condition) and CATALOGUE[rule.name].family == "visual"


@dataclass(frozen=True)
class RuleRun:
    """What one rule text does on one table. `canonical` is None when it does not parse,
    `cells` is None when it parses but does not run (or there is no table to run on)."""
    canonical: str | None
    cells: tuple[str, ...] | None
    visual_kind: str | None

    @property
    def parses(self) -> bool:
        return self.canonical is not None


def _visual_kind(rule) -> str | None:
    if isinstance(rule, Condition) and CATALOGUE[rule.name].family == "visual":
        return rule.name
    return None


def _table_or_none(data):
    """The record's table, or None when it has no data rows (or is not a table at all)."""
    if not data or len(data) < 2:
        return None
    try:
        return table_from_json(data)
    except RuleError:
        return None


def is_valid(code: str) -> bool:
    try:
        parse(code)
        return True
    except RuleError:
        return False


def run_rule(code: str, table) -> RuleRun:
    """Parse `code` and, when a table is given, execute it on the Value column."""
    return _run(code, table, lambda rule: execute(rule, table, columns=VALUE_COLUMNS))


def run_painted(code: str, table, paint: Paint | dict | None = None, fmt: str | None = None) -> RuleRun:
    """Parse `code` and, when a table is given, paint it on the whole table: as `paint` says (a Paint
    or its dict), else as the record `Format` `fmt` says, else as the service would by default."""
    if isinstance(paint, dict):
        paint = Paint(paint["target"], paint.get("column"))
    return _run(code, table, lambda rule: painted(rule, paint or format_paint(rule, table, fmt), table))


def _run(code: str, table, run) -> RuleRun:
    """What `run(rule)` formats, for a code that parses; a rule that does not run has no cells."""
    try:
        rule = parse(code)
    except RuleError:
        return RuleRun(None, None, None)
    canonical = to_canonical(rule)
    kind = _visual_kind(rule)
    if table is None:
        return RuleRun(canonical, None, kind)
    try:
        execution = run(rule)
    except (RuleError, ValueError):
        return RuleRun(canonical, None, kind)
    return RuleRun(canonical, tuple(sorted(execution.cells)), kind)


class CFReference:
    """One benchmark record's reference rule and table, run once, checked against many candidates."""

    def __init__(self, code: str, data, fmt: str | None = None, whole_table: bool = False):
        self.code = code
        self.table = _table_or_none(data)
        self.whole_table = whole_table
        self.run = run_painted(code, self.table, fmt=fmt) if whole_table else run_rule(code, self.table)

    @property
    def executable(self) -> bool:
        """False when execution match falls back to canonical-form equality."""
        return self.run.cells is not None

    def run_candidate(self, code: str, paint=None) -> RuleRun:
        table = self.table if self.executable else None
        return run_painted(code, table, paint) if self.whole_table else run_rule(code, table)

    def matches_run(self, candidate: RuleRun) -> bool:
        if not candidate.parses:
            return False
        if not self.executable:
            return self.run.parses and candidate.canonical == self.run.canonical
        return (candidate.cells is not None
                and candidate.cells == self.run.cells
                and candidate.visual_kind == self.run.visual_kind)

    def matches(self, code: str) -> bool:
        return self.matches_run(self.run_candidate(code))


def exec_match(reference: str, candidate: str, data) -> bool:
    """Does `candidate` format the same cells as `reference` on the table `data` (JSON rows)?"""
    return CFReference(reference, data).matches(candidate)
