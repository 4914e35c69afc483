"""The one canonical spelling of a rule: `to_canonical(parse(text))`.

    to_canonical(parse("and(greaterthanequal(25),lessthan(50))"))
        -> 'AND(GreaterThanEqual(25), LessThan(50))'
    to_canonical(parse("TopPercent(20)"))  -> 'top(20%)'

Canonical means: CATALOGUE names (the benchmark's spellings), arguments joined by ", ", the
column c[i] first, numbers exactly as written (Number.text), text bare when it reads back as the
same Text and otherwise in double quotes with inner quotes doubled, and formulas as "=" + text.
print -> parse -> print is stable, and parse(to_canonical(rule)) == rule for rules the parser
can produce (tests/rules/test_printer.py checks both with hypothesis).
"""
from __future__ import annotations

from .syntax import CATALOGUE, Condition, Formula, Number, Percent, Rule, Text
from .parser import bare_text_allowed


def to_canonical(rule: Rule) -> str:
    if isinstance(rule, Formula):
        return "=" + rule.formula.strip()
    if not isinstance(rule, Condition):
        raise TypeError(f"to_canonical needs a Condition or Formula, got {type(rule).__name__}")
    kind = CATALOGUE.get(rule.name)
    if kind is None:
        raise ValueError(f"unknown rule name {rule.name!r}; use a name from ast.CATALOGUE")
    name, args = rule.name, rule.args
    if name in ("TopPercent", "BottomPercent"):   # only built by hand: print as top(N%)
        name = "top" if name == "TopPercent" else "bottom"
        args = tuple(Percent(a) if isinstance(a, Number) else a for a in args) or (Percent(Number(10.0, "10")),)
    parts = [] if rule.column is None else [f"c[{rule.column}]"]
    parts += [_argument(arg, kind.family) for arg in args]
    return f"{name}({', '.join(parts)})"


def _argument(arg, family: str) -> str:
    if isinstance(arg, Condition):
        return to_canonical(arg)
    if isinstance(arg, Number):
        return arg.text
    if isinstance(arg, Percent):
        return f"{arg.value.text}%"
    if isinstance(arg, Text):
        if family == "visual" or bare_text_allowed(arg.value, "text" if family == "text" else "compare"):
            return arg.value
        return quote(arg.value)
    raise TypeError(f"cannot print argument {arg!r}")


def quote(value: str) -> str:
    """Double-quoted text, inner double quotes doubled (say "hi" becomes "say ""hi"" ")."""
    return '"' + value.replace('"', '""') + '"'
