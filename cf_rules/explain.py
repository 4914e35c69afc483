"""One plain-English line that says what a rule does.

    explain(parse("LessThan(500)"), ["Sales"])          -> 'Highlights cells in column Sales that are less than 500'
    explain(parse("StartsWith(c[0], A)"), ["Region"])   -> "Highlights rows where Region starts with 'A'"
    explain(parse("ColorScale(green, yellow, red)"))    -> 'Shades cells with a green-yellow-red colour scale'

`header` names the table's columns. A row rule (conditions with c[i]) names its columns from it
("column 3" where the header is missing or too short). A cell rule names the column only when
the header has exactly one name (the range is that one column); otherwise it says "cells".

Each leaf condition becomes a predicate (verb + complement) that is conjugated for its subject
("cells that contain 'x'" / "Region contains 'x'"). NOT is pushed down to the leaves with De
Morgan's laws so every negation reads naturally ("are not blank", "does not start with 'A'").
"""
from __future__ import annotations

from .syntax import CATALOGUE, Condition, Formula, Number, Percent, Rule

# verb forms: (plural, singular, plural negated, singular negated)
_VERBS = {
    "be": ("are", "is", "are not", "is not"),
    "contain": ("contain", "contains", "do not contain", "does not contain"),
    "start with": ("start with", "starts with", "do not start with", "does not start with"),
    "end with": ("end with", "ends with", "do not end with", "does not end with"),
}

_COMPARE = {
    "GreaterThan": "greater than", "GreaterThanEqual": "greater than or equal to",
    "LessThan": "less than", "LessThanEqual": "less than or equal to",
    "Equals": "equal to", "NotEquals": "not equal to",
}
_NEGATED_COMPARE = {"Equals": "NotEquals", "NotEquals": "Equals", "Between": "NotBetween", "NotBetween": "Between"}
_DATES = {
    "Today": "dated today", "Yesterday": "dated yesterday", "Tomorrow": "dated tomorrow",
    "Last7Days": "dated in the last 7 days", "ThisWeek": "dated this week", "LastWeek": "dated last week",
    "NextWeek": "dated next week", "ThisMonth": "dated this month", "LastMonth": "dated last month",
    "NextMonth": "dated next month",
}
# complement for plural and singular subjects
_PLAIN = {
    "aboveAverage": ("above average", "above average"), "belowAverage": ("below average", "below average"),
    "Duplicate": ("duplicates", "a duplicate"), "Unique": ("unique", "unique"),
    "Blanks": ("blank", "blank"), "Errors": ("errors", "an error"),
}


def explain(rule: Rule, header: list[str] | None = None) -> str:
    if isinstance(rule, Formula):
        return f"Highlights {_cells(header)} for which the formula ={rule.formula} is TRUE"
    if not isinstance(rule, Condition) or rule.name not in CATALOGUE:
        raise ValueError(f"cannot explain {rule!r}: not a rule from the parser")
    family = CATALOGUE[rule.name].family
    if family == "visual":
        return _visual(rule, header)
    columns = [c.column for c in _leaves(rule) if c.column is not None]
    if columns:
        return "Highlights rows where " + _clause(rule, header, singular=True)
    return f"Highlights {_cells(header)} that " + _clause(rule, header, singular=False)


def _cells(header) -> str:
    if header and len(header) == 1:
        return f"cells in column {header[0]}"
    return "cells"


def _column_name(index: int, header) -> str:
    if header and 0 <= index < len(header) and str(header[index]).strip():
        return str(header[index])
    return f"column {index + 1}"


def _leaves(rule: Condition):
    if CATALOGUE[rule.name].family == "logic":
        for arg in rule.args:
            yield from _leaves(arg)
    else:
        yield rule


def _clause(rule: Condition, header, *, singular: bool, negated: bool = False) -> str:
    """The rule as a verb phrase; for a row rule each leaf carries its column as subject."""
    if rule.name == "NOT":
        return _clause(rule.args[0], header, singular=singular, negated=not negated)
    if rule.name in ("AND", "OR"):
        # De Morgan: not (a and b) == (not a) or (not b)
        joiner = {("AND", False): " and ", ("OR", False): " or ", ("AND", True): " or ", ("OR", True): " and "}
        parts = []
        for arg in rule.args:
            part = _clause(arg, header, singular=singular, negated=negated)
            parts.append(f"({part})" if _is_compound(arg) else part)
        return joiner[(rule.name, negated)].join(parts)
    verb, complement = _predicate(rule, singular=singular, negated=negated)
    if verb.startswith("!"):      # the predicate already applied the negation
        verb, negated = verb[1:], False
    forms = _VERBS[verb]
    conjugated = forms[(1 if singular else 0) + (2 if negated else 0)]
    subject = f"{_column_name(rule.column, header)} " if rule.column is not None else ""
    return f"{subject}{conjugated} {complement}"


def _is_compound(rule: Condition) -> bool:
    """Whether the rule reads as several joined clauses (so it needs brackets when nested)."""
    while rule.name == "NOT":
        rule = rule.args[0]
    return rule.name in ("AND", "OR") and len(rule.args) > 1


def _predicate(rule: Condition, *, singular: bool, negated: bool) -> tuple[str, str]:
    name, args = rule.name, rule.args
    family = CATALOGUE[name].family
    if family == "compare":
        if negated and name in _NEGATED_COMPARE:   # "not not equal to" reads badly
            name, negated = _NEGATED_COMPARE[name], False
            verb = "!be"
        else:
            verb = "be"
        if name in ("Between", "NotBetween"):
            word = "between" if name == "Between" else "not between"
            return verb, f"{word} {_value(args[0])} and {_value(args[1])}"
        return verb, f"{_COMPARE[name]} {_value(args[0])}"
    if family == "text":
        text = args[0].value
        if name == "TextEquals":
            return "be", ("empty text" if text == "" else f"exactly {_quoted(text)}")
        verb = {"TextContains": "contain", "TextStartsWith": "start with", "TextEndsWith": "end with"}[name]
        return verb, _quoted(text)
    if family == "rank":
        amount = args[0] if args else Number(10.0, "10")
        size = f"{amount.value.text}%" if isinstance(amount, Percent) else amount.text
        return "be", f"in the {name} {size}"
    if family == "date":
        return "be", _DATES[name]
    plural, one = _PLAIN[name]
    return "be", one if singular else plural


def _value(arg) -> str:
    if isinstance(arg, Number):
        return arg.text
    if isinstance(arg, Percent):
        return f"{arg.value.text}%"
    return _quoted(arg.value)


def _quoted(text: str) -> str:
    # keep the explanation on one line: show line breaks and other control characters escaped
    shown = "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode() for ch in text)
    return "'" + shown + "'"


def _visual(rule: Condition, header) -> str:
    where = f"column {_column_name(rule.column, header)}" if rule.column is not None else _cells(header)
    colours = [a.value for a in rule.args]
    if rule.name == "ColorScale":
        scale = f"a {'-'.join(colours)} colour scale" if colours else "the default colour scale"
        return f"Shades {where} with {scale}"
    if rule.name == "DataBar":
        bars = f"{colours[0]} data bars" if colours else "data bars"
        return f"Draws {bars} in {where}"
    icons = f"icons from the {colours[0]} set" if colours else "icons from the default icon set"
    return f"Adds {icons} to {where}"
