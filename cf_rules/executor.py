"""Run a rule on a table: which cells Excel would format, and how for visual rules.

    execute(rule, table, *, today=None, columns=None) -> Execution(cells, visual)

`cells` are A1 addresses of formatted data cells, row-major; `visual` maps each cell a colour
scale, data bar or icon set draws to {"color": "#RRGGBB"}, {"bar": 0..1, "color": "#RRGGBB"} or
{"icon": "3TrafficLights1", "index": i}.

The range
---------
A rule applies to the data cells of the table (never the header). A rule without `c[i]` is a
*cell rule*: the range is the selected `columns` (0-based, default all) and each cell is tested on
its own value. Rank, average and duplicate rules look at the whole range at once, as Excel does
for a multi-column range. A rule whose leaves name columns is a *row rule*: each leaf is
evaluated over its own column (so `top(3)` on `c[2]` ranks column 2), a row matches when the
combined condition holds, and every cell of a matching row, in all columns of the table, is
formatted (`columns` does not apply to row rules). A formula rule is evaluated once per cell of the range, its relative
references shifted from the range's top-left cell (see formula.py).

Values (see table.py for how JSON and sheet cells are typed)
--------------------------------------------------------------
Dates are serial numbers to Excel, so every numeric rule treats them as numbers. Booleans are
neither numbers nor text.

Semantics per rule family, following what Excel's own rules compute:

* compare (cellIs: GreaterThan, LessThan, Equals, Between ...): Excel's `=` / `<` on values.
  Numbers < text < TRUE/FALSE whatever the values, so a text cell *is* greater than 500 and is
  formatted by GreaterThan(500) and NotEquals(500) (Excel does this; the fix in Excel is an
  ISNUMBER formula). A blank compares as 0 (or "" against text), so LessThan(500) formats blanks,
  as Excel does. Text compares case-insensitively. Between(a, b) accepts the bounds in either
  order and includes them; NotBetween is its complement. Error cells never match.
* text (TextContains, TextStartsWith, TextEndsWith, TextEquals): the cell's text form (numbers
  as Excel writes them: 619.5, 1E+20; TRUE/FALSE) matched case-insensitively. TextContains is
  Excel's SEARCH, so `*`, `?` and `~` are wildcards; starts/ends/equals are literal. So
  TextEquals(165) matches the number 165. Blank cells never match; error cells never match.
* rank (top/bottom N, N%): over the numeric cells of the range only. Every cell tied with the
  Nth value is included (Excel formats more than N cells on ties). N% selects
  max(1, floor(count * N / 100)) values, as Excel does. N defaults to 10. top(N) with N greater
  than the count formats every numeric cell.
* average: the mean of the numeric cells; aboveAverage is strictly greater, belowAverage
  strictly less; non-numeric cells never match.
* set (Duplicate, Unique): over non-blank, non-error cells, case-insensitive for text; a number
  and a text never equal each other (1 vs "1" in a sheet; JSON tables have read "1" as 1).
  Every such cell is exactly one of Duplicate or Unique.
* state: Blanks = empty cell or text that is only spaces (Excel's LEN(TRIM(cell))=0; TRIM
  removes spaces only). Errors = #N/A, #DIV/0! and the other error values.
* date (Today ... NextMonth): Excel's timePeriod formulas on the cell's serial number, relative
  to `today` (default date.today()): weeks run Sunday..Saturday, months are calendar months,
  Last7Days is today and the 6 days before. Blank cells are day 0 (never in range); text cells
  never match.
* logic: AND/OR/NOT combine leaf results on the same cell (or row). A leaf that does not apply
  to a cell (an error value under any leaf but Errors(), a non-numeric cell under rank/average,
  a blank or error under Duplicate/Unique, a text cell under a date rule) gives "unknown", and
  the combination follows three-valued logic: NOT(unknown) stays unknown, so NOT(r) formats
  exactly the cells where r applies and does not hold; AND(unknown, false) is false and
  OR(unknown, true) is true. Only true is formatted.
* visual (every numeric cell of the range gets a visual; the others are not formatted):
  ColorScale() is Excel's default 3-colour scale: lowest value #F8696B (red), 50th percentile
  #FFEB84 (yellow), highest #63BE7B (green), interpolated per RGB channel. ColorScale(a, b) is a
  2-colour scale min..max and ColorScale(a, b, c) a 3-colour scale, each colour a `#RRGGBB` or
  a name (ast.COLOURS). When every value is equal, a 3-colour scale gives the middle colour
  and a 2-colour scale the low colour.
  DataBar() returns `bar` = (value - min) / (max - min) in 0..1 (1.0 when all values are equal),
  the position of the value between the lowest and highest value; Excel draws that as
  10% + 80% * bar of the cell width (its default minimum and maximum bar length). Colour default
  #638EC6, DataBar(colour) sets it.
  IconSet() is 3TrafficLights1 with Excel's default percent thresholds (icon i when the value is
  at least min + (max - min) * p_i / 100, p = 0/33/67; 0/25/50/75 for 4 icons; 0/20/40/60/80
  for 5). `index` 0 is the icon of the lowest values (red light, down arrow), n-1 the highest,
  the order of the icons in Excel's rule dialog read from the bottom. IconSet(name) picks one of
  ast.ICON_SETS.
"""
from __future__ import annotations

import math
import operator
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from .syntax import CATALOGUE, COLOURS, ICON_SETS, Condition, Formula, Number, Percent, Text, iter_conditions
from .errors import TableError, UnsupportedRuleError
from .formula import formula_matches, wildcard_regex
from .table import Table, as_text, compare, comparer, is_error, is_number, to_serial

DEFAULT_TOP_N = 10

DEFAULT_COLOR_SCALE = ("#F8696B", "#FFEB84", "#63BE7B")     # low, middle, high
DEFAULT_DATA_BAR_COLOR = "#638EC6"
DEFAULT_ICON_SET = "3TrafficLights1"

ICON_THRESHOLDS = {3: (0, 33, 67), 4: (0, 25, 50, 75), 5: (0, 20, 40, 60, 80)}


@dataclass
class Execution:
    cells: list[str] = field(default_factory=list)
    visual: dict[str, dict] = field(default_factory=dict)


def execute(rule, table: Table, *, today: date | None = None,
            columns: list[int] | None = None) -> Execution:
    """Which data cells of `table` the rule formats (see the module docstring)."""
    if not isinstance(table, Table):
        raise TypeError(f"execute() needs a Table, got {type(table).__name__}")
    today = _as_date(today)
    selected = _selected_columns(table, columns)
    if isinstance(rule, Formula):
        hits = formula_matches(rule.formula, table, selected, today=today)
        return Execution([table.address(r, c) for r, c in hits])
    if not isinstance(rule, Condition):
        raise TypeError(f"execute() needs a parsed rule (Condition or Formula), got {type(rule).__name__}")
    _check_rule(rule, table)
    kind = CATALOGUE[rule.name]
    if kind.family == "visual":
        return _execute_visual(rule, table, selected)

    leaf_columns = {c.column for c in iter_conditions(rule) if CATALOGUE[c.name].family != "logic"}
    if leaf_columns == {None}:   # cell rule: one range of cells, tested one by one
        positions = [(r, c) for r in range(table.n_rows) for c in selected]
        values = [row[c] for row in table.rows for c in selected]      # the same row-major order
        results = _evaluate(rule, lambda column: values, today)
        return Execution([table.address(r, c) for (r, c), hit in zip(positions, results) if hit is True])
    if None in leaf_columns:
        raise UnsupportedRuleError(
            "a rule must name a column in every condition or in none",
            hint="write c[i] on every condition (a row rule) or on none (a cell rule)")
    results = _evaluate(rule, table.column, today)   # row rule: one result per row
    return Execution([table.address(r, c) for r, hit in enumerate(results) if hit is True
                      for c in range(table.n_cols)])


# --- checks ---------------------------------------------------------------------------------

def _as_date(today) -> date:
    if today is None:
        return date.today()
    if isinstance(today, datetime):
        return today.date()
    if isinstance(today, date):
        return today
    raise TypeError(f"today must be a date, got {type(today).__name__}")


def _selected_columns(table: Table, columns) -> list[int]:
    if columns is None:
        return list(range(table.n_cols))
    selected = []
    for c in columns:
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < table.n_cols:
            raise TableError(f"column {c!r} is not in the table",
                             hint=f"columns are 0-based: 0..{table.n_cols - 1} ({', '.join(table.header)})")
        if c not in selected:
            selected.append(c)
    return sorted(selected)


def _check_rule(rule: Condition, table: Table):
    for cond in iter_conditions(rule):
        if cond.name not in CATALOGUE:
            raise UnsupportedRuleError(f"unknown rule {cond.name!r}",
                                       hint="known rules: " + ", ".join(CATALOGUE))
        kind = CATALOGUE[cond.name]
        if cond.column is not None and not 0 <= cond.column < table.n_cols:
            raise TableError(f"the rule names column c[{cond.column}] but the table has "
                             f"{table.n_cols} columns",
                             hint=f"use c[0]..c[{table.n_cols - 1}] ({', '.join(table.header)})")
        if kind.family == "visual" and cond is not rule:
            raise UnsupportedRuleError(f"{cond.name} draws on every cell and cannot be combined "
                                       "with AND/OR/NOT", hint=f"use {cond.name}(...) on its own")
        if kind.family == "logic":
            for arg in cond.args:
                if not isinstance(arg, Condition):
                    raise UnsupportedRuleError(f"{cond.name} combines conditions, got {arg!r}",
                                               hint=f"write e.g. {cond.name}(GreaterThan(5), LessThan(9))")


def _number_arg(cond: Condition, arg) -> float:
    if isinstance(arg, Number):
        return arg.value
    raise UnsupportedRuleError(f"{cond.name} needs a number, got {_literal_text(arg)!r}",
                               hint=f"for example {cond.name}(10)")


def _literal_text(arg) -> str:
    if isinstance(arg, Number):
        return arg.text
    if isinstance(arg, Text):
        return arg.value
    if isinstance(arg, Percent):
        return arg.value.text + "%"
    return str(arg)


# --- evaluation: each leaf gives True / False / None (unknown) for every cell of its range ----

def _evaluate(cond: Condition, column_values, today: date) -> list:
    """Results of `cond` over a range. `column_values(col)` returns the range's values for a
    leaf naming column `col` (or for None in a cell rule)."""
    kind = CATALOGUE[cond.name]
    if kind.family == "logic":
        parts = [_evaluate(arg, column_values, today) for arg in cond.args]
        combine = {"AND": _and, "OR": _or, "NOT": _not}[cond.name]
        return [combine(cell) for cell in zip(*parts)]
    values = column_values(cond.column)
    family_rules = {"compare": _compare_rule, "text": _text_rule, "rank": _rank_rule,
                    "average": _average_rule, "set": _set_rule, "state": _state_rule,
                    "date": _date_rule}
    return family_rules[kind.family](cond, values, today)


def _and(results):
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def _or(results):
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


def _not(results):
    (r,) = results
    return None if r is None else not r


def _literal_value(cond: Condition, arg):
    if isinstance(arg, Number):
        return arg.value
    if isinstance(arg, Text):
        return arg.value
    if isinstance(arg, Percent):
        return arg.value.value / 100
    raise UnsupportedRuleError(f"{cond.name} compares with a number or text, got {_literal_text(arg)!r}",
                               hint=f"write e.g. {cond.name}(500) or {cond.name}(Done)")


# Each comparison rule as an operator: on two floats for a number cell against a number literal (the
# usual case), and on `compare`'s -1/0/1 against 0 for every other pair of values.
_COMPARE = {
    "GreaterThan": operator.gt, "GreaterThanEqual": operator.ge, "LessThan": operator.lt,
    "LessThanEqual": operator.le, "Equals": operator.eq, "NotEquals": operator.ne,
}


def _compare_rule(cond, values, today):
    bounds = [_literal_value(cond, a) for a in cond.args]
    if cond.name in _COMPARE:
        test, against = _COMPARE[cond.name], comparer(bounds[0])
        if type(bounds[0]) in (int, float):
            return _compare_with_number(test, float(bounds[0]), against, values)
        return [None if is_error(v) else test(against(v), 0) for v in values]
    low, high = sorted(bounds, key=_SortKey)
    against_low, against_high = comparer(low), comparer(high)
    inside = [None if is_error(v) else against_low(v) >= 0 and against_high(v) <= 0 for v in values]
    return inside if cond.name == "Between" else [None if r is None else not r for r in inside]


def _compare_with_number(test, bound: float, against, values) -> list:
    """`test(compare(v, bound), 0)` for every cell, as the general path computes it, without typing
    each cell: an int, float or date cell is compared as a float (`compare` does the same after
    typing it), a text cell is greater than any number; blanks, booleans and errors take the
    general path. A request tests its table with many rules, so this is most of its rule time."""
    text_result = test(1, 0)
    out = []
    append = out.append
    for v in values:
        kind = type(v)
        if kind is float or kind is int:
            append(test(float(v), bound))
        elif kind is str:
            append(text_result)
        elif kind is date or kind is datetime:
            append(test(float(to_serial(v)), bound))
        else:
            append(None if is_error(v) else test(against(v), 0))
    return out


class _SortKey:
    """Orders literals the way `compare` does (for Between's bounds)."""
    def __init__(self, value):
        self.value = value

    def __lt__(self, other):
        return compare(self.value, other.value) < 0


def _text_rule(cond, values, today):
    needle = _literal_text(cond.args[0]).casefold()
    if cond.name == "TextContains":
        pattern = wildcard_regex(needle)
        test = lambda text: pattern.search(text) is not None  # noqa: E731
    elif cond.name == "TextStartsWith":
        test = lambda text: text.startswith(needle)  # noqa: E731
    elif cond.name == "TextEndsWith":
        test = lambda text: text.endswith(needle)  # noqa: E731
    else:  # TextEquals
        test = lambda text: text == needle  # noqa: E731
    out = []
    for v in values:
        if is_error(v):
            out.append(None)
        elif v is None:
            out.append(False)
        else:
            try:
                folded = _folded_text(v)
            except TypeError:      # an unhashable cell value cannot be cached
                folded = as_text(v).casefold()
            out.append(test(folded))
    return out


# A request tests the same cells with several text rules (the model's readings and their
# siblings), and turning a number into Excel's text is the costly part of each test. typed=True
# keeps 1, 1.0 and True apart (True is "TRUE").
@lru_cache(maxsize=65_536, typed=True)
def _folded_text(value) -> str:
    return as_text(value).casefold()


def _numbers(values) -> list[float]:
    return [float(to_serial(v)) for v in values if is_number(v)]


def _rank_rule(cond, values, today):
    arg = cond.args[0] if cond.args else Number(DEFAULT_TOP_N, str(DEFAULT_TOP_N))
    percent = cond.name in ("TopPercent", "BottomPercent") or isinstance(arg, Percent)
    n = _number_arg(cond, arg.value if isinstance(arg, Percent) else arg)
    if n < 0 or (not percent and n != int(n)) or (percent and n > 100):
        raise UnsupportedRuleError(
            f"{cond.name}({_literal_text(arg)}) asks for an impossible count",
            hint="use a whole number of items (top(10)) or a percentage from 0 to 100 (top(10%))")
    top = cond.name in ("top", "TopPercent")
    numbers = sorted(_numbers(values), reverse=top)
    if not numbers or n == 0:
        return [None if not is_number(v) else False for v in values]
    count = max(1, math.floor(len(numbers) * n / 100)) if percent else int(n)
    cutoff = numbers[min(count, len(numbers)) - 1]
    return _each_number(values, (lambda x: x >= cutoff) if top else (lambda x: x <= cutoff))


def _average_rule(cond, values, today):
    numbers = _numbers(values)
    if not numbers:
        return [None] * len(values)
    mean = math.fsum(numbers) / len(numbers)
    return _each_number(values, (lambda x: x > mean) if cond.name == "aboveAverage" else (lambda x: x < mean))


def _each_number(values, test) -> list:
    """test(x) for each numeric value (dates as serials); None where a value is not a number, since
    rank and average rules do not apply there."""
    return [test(float(to_serial(v))) if is_number(v) else None for v in values]


def _set_key(value):
    if isinstance(value, bool):
        return ("bool", value)
    if is_number(value):
        return ("number", float(to_serial(value)))
    return ("text", value.casefold())


def _set_rule(cond, values, today):
    keys = [None if v is None or is_error(v) else _set_key(v) for v in values]   # once per cell: the costly part
    counts = Counter(key for key in keys if key is not None)
    want_duplicates = cond.name == "Duplicate"
    return [None if key is None else (counts[key] > 1) == want_duplicates for key in keys]


def _state_rule(cond, values, today):
    if cond.name == "Errors":
        return [is_error(v) for v in values]
    return [None if is_error(v) else v is None or (isinstance(v, str) and v.strip(" ") == "")
            for v in values]


def _date_rule(cond, values, today):
    t = date_serial(today)
    weekday = (today.weekday() + 1) % 7 + 1        # Excel WEEKDAY(): Sunday = 1 .. Saturday = 7
    windows = {
        "Today": (t, t), "Yesterday": (t - 1, t - 1), "Tomorrow": (t + 1, t + 1),
        "Last7Days": (t - 6, t),
        "ThisWeek": (t - (weekday - 1), t + (7 - weekday)),
        "LastWeek": (t - weekday - 6, t - weekday),
        "NextWeek": (t + 8 - weekday, t + 14 - weekday),
    }
    out = []
    for v in values:
        if v is None:
            day = 0                                  # a blank is serial 0, never in a window
        elif is_number(v):
            day = math.floor(to_serial(v))
        else:
            out.append(None)
            continue
        if cond.name in windows:
            low, high = windows[cond.name]
            out.append(low <= day <= high)
        else:
            out.append(_same_month(day, today, {"ThisMonth": 0, "LastMonth": -1, "NextMonth": 1}[cond.name]))
    return out


def date_serial(day: date) -> int:
    return int(to_serial(day))


def _same_month(day: int, today: date, shift: int) -> bool | None:
    if day < 1:
        return False if day == 0 else None          # Excel's MONTH() of a negative is #NUM!
    try:
        when = _EXCEL_EPOCH + timedelta(days=day)
    except OverflowError:
        return None
    months = today.year * 12 + today.month - 1 + shift
    return (when.year, when.month) == (months // 12, months % 12 + 1)


# Serial 1 is 1900-01-01 and serial 60 is Excel's phantom 1900-02-29; from 61 on, days count
# from 1899-12-30. Dates before March 1900 only matter for tiny numbers in a date rule.
_EXCEL_EPOCH = date(1899, 12, 30)


# --- visual rules ---------------------------------------------------------------------------

def _execute_visual(rule: Condition, table: Table, selected: list[int]) -> Execution:
    cols = [rule.column] if rule.column is not None else selected
    positions = [(r, c) for r in range(table.n_rows) for c in cols if is_number(table.value(r, c))]
    numbers = [float(to_serial(table.value(r, c))) for r, c in positions]
    draw = {"ColorScale": _color_scale, "DataBar": _data_bar, "IconSet": _icon_set}[rule.name]
    visuals = draw(rule, numbers)
    visual = {table.address(r, c): vis for (r, c), vis in zip(positions, visuals)}
    return Execution(list(visual), visual)


def parse_color(cond: Condition, arg) -> str:
    text = _literal_text(arg).strip()
    if re.fullmatch(r"#?[0-9A-Fa-f]{6}", text):
        return "#" + text.lstrip("#").upper()
    name = re.sub(r"[\s_-]", "", text).lower()
    if name in COLOURS:
        return COLOURS[name]
    raise UnsupportedRuleError(f"{cond.name}: {text!r} is not a colour",
                               hint="use #RRGGBB or one of: " + ", ".join(COLOURS))


def _color_scale(rule, numbers):
    if len(rule.args) == 1:
        raise UnsupportedRuleError("ColorScale needs 2 or 3 colours (or none for green-yellow-red)",
                                   hint="for example ColorScale(#F8696B, #63BE7B)")
    colors = [parse_color(rule, a) for a in rule.args] or list(DEFAULT_COLOR_SCALE)
    if not numbers:
        return []
    low, high = min(numbers), max(numbers)
    rgb = [_rgb(c) for c in colors]
    out = []
    if len(colors) == 2:
        for x in numbers:
            f = 0.0 if high == low else (x - low) / (high - low)
            out.append({"color": _mix(rgb[0], rgb[1], f)})
        return out
    mid = percentile(numbers, 0.5)
    for x in numbers:
        if high == low:
            color = _mix(rgb[1], rgb[1], 0)
        elif x == high or x == low:               # the end points keep their own colour
            color = colors[2] if x == high else colors[0]
        elif x <= mid:
            color = _mix(rgb[0], rgb[1], 1.0 if mid == low else (x - low) / (mid - low))
        else:
            color = _mix(rgb[1], rgb[2], (x - mid) / (high - mid))
        out.append({"color": color})
    return out


def percentile(numbers: list[float], p: float) -> float:
    """Excel's PERCENTILE.INC."""
    xs = sorted(numbers)
    rank = p * (len(xs) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _mix(a, b, f: float) -> str:
    channels = (math.floor(x + (y - x) * f + 0.5) for x, y in zip(a, b))
    return "#" + "".join(f"{c:02X}" for c in channels)


def _data_bar(rule, numbers):
    color = parse_color(rule, rule.args[0]) if rule.args else DEFAULT_DATA_BAR_COLOR
    if not numbers:
        return []
    low, high = min(numbers), max(numbers)
    return [{"bar": 1.0 if high == low else (x - low) / (high - low), "color": color} for x in numbers]


def _icon_set(rule, numbers):
    name = DEFAULT_ICON_SET
    if rule.args:
        wanted = _literal_text(rule.args[0]).strip().lower()
        matches = [n for n in ICON_SETS if n.lower() == wanted]
        if not matches:
            raise UnsupportedRuleError(f"IconSet: unknown icon set {_literal_text(rule.args[0])!r}",
                                       hint="icon sets: " + ", ".join(ICON_SETS))
        name = matches[0]
    if not numbers:
        return []
    thresholds = ICON_THRESHOLDS[int(name[0])]
    low, high = min(numbers), max(numbers)
    out = []
    for x in numbers:
        index = max(i for i, p in enumerate(thresholds) if x >= low + (high - low) * p / 100)
        out.append({"icon": name, "index": index})
    return out
