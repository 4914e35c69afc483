"""Grounding a model's rule in the request and the user's table: the right columns, values someone typed.

    ground(rule, context) -> rule | None

Every condition of a rule is bound to a column (`linker.Linking.best_column`): a text literal the
column holds decides it, else the column the request names whose type fits the condition (numeric
conditions read numbers or dates, text conditions text), else the only column that fits; the
model's own column stays when it fits and the request says nothing against it. Every literal
must then come from somewhere a person can see:
- a number from the request ("1,000", "$5k", "45 grand", "thirty"); a model literal that is the
  request's number with a digit stuck on (`1001` for "under 100") is that number; a percent on a
  column of fractions compares the fraction ("75%" -> 0.75); a year or date on a date column
  compares Excel serials ("before 2025" -> < 45658, "in 2020" -> between its first and last day);
- a text from the request or from the column's own values; a request word that is part of one
  value of the column ("Müller" -> `Müller GmbH`) or a coded value ("women" -> `F`) becomes that value;
- a closed vocabulary (colours, icon sets, which the grammar already checks).
Anything else is dropped (None): `TextEquals(lunch)` on a table that never says lunch is not shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from cf_rules.syntax import CATALOGUE, Condition, Formula, Number, Percent, Text

from .linker import Linking, fold
from .quantities import Quantity

NEEDS_NUMBER = ("rank", "average", "visual")
NEEDS_TEXT = ("text",)


@dataclass
class Context:
    request: str
    linking: Linking
    quantities: list[Quantity]
    n_cols: int
    fractions: set[int] = field(default_factory=set)      # numeric columns holding fractions (percents)
    column_values: dict[int, dict[str, str]] = field(default_factory=dict)   # folded -> as held, text columns

    @property
    def folded(self) -> str:
        return fold(self.request)


def ground(rule, context: Context):
    """The rule bound to the table's columns with grounded literals, or None when it cannot be."""
    if isinstance(rule, Formula):
        return rule
    taken: set[int] = set()
    return _ground(rule, context, taken)


def _ground(cond: Condition, context: Context, taken: set[int]):
    kind = CATALOGUE[cond.name]
    if kind.family == "logic":
        args = []
        for arg in cond.args:
            grounded = _ground(arg, context, taken) if isinstance(arg, Condition) else arg
            if grounded is None:
                return None
            args.append(grounded)
        return replace(cond, args=tuple(args))
    column = _bind(cond, context, taken)
    if column is None and context.n_cols > 1:
        return None
    if column is not None:
        taken.add(column)
    args = []
    for arg in cond.args:
        grounded = _literal(arg, cond, column, context)
        if grounded is None:
            return None
        args.append(grounded)
    bound = replace(cond, column=column if context.n_cols > 1 else cond.column, args=tuple(args))
    return _date_reading(bound, column, context)


def _need(cond: Condition, context: Context) -> str | None:
    family = CATALOGUE[cond.name].family
    if family in NEEDS_TEXT:
        return "text"
    if family in NEEDS_NUMBER:
        return "number"
    if family == "compare":
        numbers = [a for a in cond.args if isinstance(a, (Number, Percent))]
        if numbers:
            return "number"
        return "text" if cond.args else None
    if family == "date":
        return "date"
    return None


def _bind(cond: Condition, context: Context, taken: set[int]) -> int | None:
    linking = context.linking
    need = _need(cond, context)
    for arg in cond.args:                       # a text value the table holds decides its column
        if isinstance(arg, Text):
            holders = [c for c, values in context.column_values.items() if fold(arg.value) in values]
            mentioned = [m.column for m in linking.values if fold(arg.value) in fold(m.value)]
            for choice in (mentioned, holders):
                free = [c for c in choice if c not in taken] or choice
                if free:
                    return max(free, key=linking.score) if cond.column not in free else cond.column
    wants_date = need == "number" and any(_date_like(a, context) for a in cond.args)
    dated = linking.best_column("date") if wants_date else None
    if dated is not None:
        return dated
    model = cond.column
    need = "strict-number" if need == "number" else need     # a date column only for a date literal
    best = linking.best_column(need, frozenset(taken))
    if model is not None and 0 <= model < len(linking.kinds) and linking.fits(model, need) and model not in taken:
        if best is None or linking.score(model) >= linking.score(best):
            return model
    return best


def _date_like(arg, context: Context) -> bool:
    if not isinstance(arg, Number):
        return False
    return any(q.kind in ("date", "month", "year") and (arg.value == q.value or arg.value in (q.low, q.high))
               for q in context.quantities)


def _literal(arg, cond: Condition, column: int | None, context: Context):
    if isinstance(arg, Condition):
        return arg
    family = CATALOGUE[cond.name].family
    if isinstance(arg, Text):
        if family in ("visual",) or cond.name in ("IconSet", "ColorScale", "DataBar"):
            return arg
        return _text_literal(arg, column, context, whole=cond.name in ("TextEquals", "Equals", "NotEquals"))
    if isinstance(arg, Percent):
        return arg if _stated(arg.value.value, context, percent=True) else _repaired_number(arg.value, context, percent=True)
    if isinstance(arg, Number):
        if family in ("rank",):
            return arg if _stated(arg.value, context) else _repaired_number(arg, context)
        fraction_column = column is not None and column in context.fractions
        if fraction_column and arg.value > 1 and _stated(arg.value, context, percent=True):
            value = arg.value / 100
            return Number(value, _spell(value))
        if _stated(arg.value, context) or (fraction_column and _stated(arg.value * 100, context, percent=True)):
            return arg
        if arg.value == 0 and cond.name in ("Equals", "NotEquals", "LessThanEqual", "GreaterThan", "LessThan"):
            return arg if _zero_words(context) else None
        return _repaired_number(arg, context, fraction_column=fraction_column)
    return arg


def _zero_words(context: Context) -> bool:
    text = context.folded
    return any(w in text for w in ("zero", "none left", "out of", "negative", "positive", "run out", "empty stock"))


def _stated(value: float, context: Context, percent: bool = False) -> bool:
    for q in context.quantities:
        if q.value == value or (q.low is not None and value in (q.low, q.high)):
            if not percent or q.kind == "percent" or q.kind == "number":
                return True
    return False


def _repaired_number(arg, context: Context, percent: bool = False, fraction_column: bool = False):
    """The request's number a decoded literal stands for: a request number with a digit stuck on
    (`1001` for "under 100", `100001` for "under 10000") is that number."""
    text = arg.text if isinstance(arg, Number) else str(arg)
    plain = [q for q in context.quantities if q.kind in ("number", "percent")]
    for q in plain:
        spelled = _spell(q.value)
        if len(text) > len(spelled) and text.startswith(spelled) and len(text) - len(spelled) <= 1:
            return _as_number(q, fraction_column)
    for q in plain:       # "45 grand", "$10k": the model copied the digits without the multiplier
        spelled = _spell(q.value)
        if len(spelled) > len(text) and spelled.startswith(text) and set(spelled[len(text):]) == {"0"}:
            return _as_number(q, fraction_column)
    return None


def _as_number(q: Quantity, fraction_column: bool) -> Number:
    value = q.value / 100 if (fraction_column and q.kind == "percent") else q.value
    return Number(value, _spell(value))


def _spell(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _text_literal(arg: Text, column: int | None, context: Context, whole: bool = True):
    """`whole`: the rule compares whole cells (TextEquals), so a word of a value stands for the value."""
    value = arg.value
    folded = fold(value)
    values = context.column_values.get(column, {}) if column is not None else {}
    mentioned = [m for m in context.linking.values if m.column == column]
    for m in mentioned:                       # "women" -> F, "Müller" -> Müller GmbH
        if folded == fold(m.value) or (whole and len(folded) >= 3 and folded in fold(m.value)):
            return Text(m.value)
    if folded and _said(folded, context.folded) and not _number_on_text(folded, values):
        return arg
    return None


def _number_on_text(folded: str, values: dict[str, str]) -> bool:
    """A number of the request read as text ("Rep contains '500'") where no cell of the column holds it:
    the request's number belongs to a comparison on another column."""
    return bool(re.fullmatch(r"[\d.,%$€£]+", folded)) and not any(folded in v for v in values)


def _said(folded: str, request: str) -> bool:
    """The request has this text as words of its own (not the 'c' inside "cable"); text without word
    characters at its edges (CJK, "/blog") only needs to occur."""
    if folded[:1].isascii() and folded[:1].isalnum() and folded[-1:].isascii() and folded[-1:].isalnum():
        return re.search(r"(?<![^\W_])" + re.escape(folded) + r"(?![^\W_])", request) is not None
    return folded in request


def _date_reading(cond: Condition, column: int | None, context: Context) -> Condition:
    """A year or month on a date column compares that period's serials: `LessThan(c[5], 2025)` is
    'before 1 Jan 2025', `Equals(c[4], 2020)` 'during 2020'."""
    if column is None or context.linking.kinds[column] != "date" or CATALOGUE[cond.name].family != "compare":
        return cond
    periods = [q for q in context.quantities if q.kind in ("year", "month", "date")]
    if not periods:
        return cond
    args = list(cond.args)
    for i, arg in enumerate(args):
        if not isinstance(arg, Number):
            continue
        period = next((q for q in periods if arg.value in (q.value, q.low, q.high)), None)
        if period is None:
            continue
        low, high = period.low, period.high
        if cond.name in ("Equals",) and low != high:
            return Condition("Between", cond.column, (Number(low, _spell(low)), Number(high, _spell(high))))
        pick = {"LessThan": low, "GreaterThanEqual": low, "GreaterThan": high, "LessThanEqual": high}.get(cond.name)
        if pick is None:
            pick = low if i == 0 else high
        args[i] = Number(pick, _spell(pick))
    return replace(cond, args=tuple(args))
