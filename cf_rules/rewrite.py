"""Rewrites of canonical rule texts that keep their meaning legible: bind a rule to a column, drop its
column, re-order an AND/OR's columns, flip the connective, and the sibling readings of a condition.

Each takes and returns canonical text (`cf_rules.printer.to_canonical`), or None when the rewrite
changes nothing; the CF candidate pipeline applies them to the model's readings.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from .parser import parse
from .printer import to_canonical
from .syntax import CATALOGUE, Condition, iter_conditions


@lru_cache(maxsize=4096)
def parse_canonical(code: str):
    """The rule of a canonical code (what restore_valid returns). Ranking, grounding and flipping all read
    the same few codes of a request, and the AST is immutable, so one parse serves them all."""
    return parse(code)



def ground(code: str, column: int, bind_cell_rules: bool = True) -> str | None:
    """`code` with every condition reading `column`: a row rule on another column is moved to it, a cell
    rule becomes a row rule on it (unless `bind_cell_rules` is False). None when nothing changes, for
    formulas, and for rules that read two or more columns (which one was meant is not clear)."""
    rule = parse_canonical(code)
    if not isinstance(rule, Condition):
        return None
    columns = _read_columns(rule)
    if columns == {column} or len(columns) > 1 or (not columns and not bind_cell_rules):
        return None
    return to_canonical(_with_column(rule, column))


def ground_in_order(code: str, columns: list[int]) -> str | None:
    """An AND/OR of as many conditions as `columns` with the i-th condition reading columns[i] ("url is
    /blog or Channel is Social": conditions follow the request). None when the rule already reads
    exactly those columns (in whatever order: "Sales over 500 where Region is North"), when the
    shapes differ, and for other rules."""
    rule = parse_canonical(code)
    if not isinstance(rule, Condition) or rule.name not in ("AND", "OR") or len(rule.args) != len(columns):
        return None
    if not all(isinstance(arg, Condition) for arg in rule.args):
        return None
    read = [{c.column for c in iter_conditions(arg)} for arg in rule.args]
    if sorted(c for cols in read for c in cols if c is not None) == sorted(columns) and all(len(c) == 1 for c in read):
        return None
    if any(len(cols - {None}) > 1 for cols in read):
        return None
    return to_canonical(replace(rule, args=tuple(_with_column(arg, col) for arg, col in zip(rule.args, columns))))


def unground(code: str) -> str | None:
    """`code` as a cell rule when it reads one column (`Last7Days(c[1])` -> `Last7Days()`); None otherwise."""
    rule = parse_canonical(code)
    if not isinstance(rule, Condition):
        return None
    if len(_read_columns(rule)) != 1:
        return None
    return to_canonical(_with_column(rule, None))


# rule kinds that read the same arguments, in the order their members are offered for one another
SIBLING_FAMILIES = (("GreaterThan", "GreaterThanEqual", "Equals", "LessThan", "LessThanEqual", "NotEquals"),
                    ("Between", "NotBetween"), ("TextContains", "TextEquals", "TextStartsWith", "TextEndsWith"),
                    ("top", "bottom"), ("aboveAverage", "belowAverage"), ("Duplicate", "Unique"))
NEGATED_SIBLINGS = ("Blanks", "Errors")


def siblings(code: str) -> list[str]:
    """Other readings of a one-condition rule with the same arguments: `GreaterThan(2006)` ->
    `GreaterThanEqual(2006)`, `Equals(2006)`, ...; `Blanks()` <-> `NOT(Blanks())`. They fill the k
    candidates when the model's readings format fewer distinct cell sets than k."""
    rule = parse_canonical(code)
    if not isinstance(rule, Condition):
        return []
    if rule.name == "NOT" and len(rule.args) == 1 and getattr(rule.args[0], "name", None) in NEGATED_SIBLINGS:
        return [to_canonical(rule.args[0])]
    if rule.name in NEGATED_SIBLINGS:
        return [to_canonical(Condition("NOT", None, (rule,)))]
    family = next((f for f in SIBLING_FAMILIES if rule.name in f), ())
    return [to_canonical(replace(rule, name=name)) for name in family if name != rule.name]


def _unwrapped(rule):
    """`AND(x)` and `OR(x)` are just `x` (the model writes them when it drops an arm)."""
    while isinstance(rule, Condition) and rule.name in ("AND", "OR") and len(rule.args) == 1:
        rule = rule.args[0]
    return rule


def flip_connective(code: str) -> str | None:
    """`code` with its outermost AND turned into OR (or OR into AND); None for any other rule."""
    rule = parse_canonical(code)
    if not isinstance(rule, Condition) or rule.name not in ("AND", "OR") or len(rule.args) < 2:
        return None
    return to_canonical(replace(rule, name="OR" if rule.name == "AND" else "AND"))


def _read_columns(rule) -> set[int]:
    """The table columns a rule's conditions read (empty for a cell rule)."""
    return {c.column for c in iter_conditions(rule) if c.column is not None}


def _with_column(cond: Condition, column: int) -> Condition:
    if CATALOGUE[cond.name].family == "logic":
        return replace(cond, args=tuple(_with_column(a, column) if isinstance(a, Condition) else a
                                        for a in cond.args))
    return replace(cond, column=column)
