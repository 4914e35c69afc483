"""CF-language rules as native Excel rules (openpyxl objects), and the formulas behind them.

* `to_openpyxl_rule(rule, cell_range, style)` turns one rule of the CF language into one
  openpyxl `Rule` of the native type Excel itself would write (`cellIs`, `containsText`,
  `top10`, `timePeriod`, `colorScale`, ...), with a `DifferentialStyle` for highlight rules.
  Logic (AND/OR/NOT), row rules (`c[i]`) and `=` formula rules become `expression` rules whose
  formula is relative to the range's top-left cell (`=$C2>4000` for a row rule over A2:D20).
* `rule_formula(rule, cell_range)` gives that boolean formula for any non-visual rule.
* `write_rules_to_worksheet(ws, rules)` adds rules to a workbook built with openpyxl.

Writing rules into a user's workbook without losing anything is `package.py`'s job.
"""
from __future__ import annotations

import re

from openpyxl.formatting.rule import ColorScaleRule, DataBarRule, IconSetRule, Rule
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.styles.differential import DifferentialStyle

from .. import a1, syntax
from ..a1 import CellRange
from ..errors import UnsupportedRuleError
from .safety import workbook_error
from .styles import DEFAULT_BAR_COLOUR, DEFAULT_SCALE, Style, scale_colour, with_defaults

MAX_FORMULA_CHARS = 8192

__all__ = ["CellRange", "parse_range", "rule_formula", "condition_formula", "to_openpyxl_rule",
           "write_rules_to_worksheet", "differential_style", "quote_text", "literal_formula"]


def parse_range(text: str) -> CellRange:
    """'A1:D20' or 'B7' (optional $) -> CellRange; WorkbookError when malformed or past Excel's limits."""
    try:
        return a1.parse_range(text)
    except a1.A1Error as err:
        raise workbook_error("workbook_bad_range", err.message, err.hint) from None


# -------------------------------------------------------------------------------- formulas

_TIME_PERIODS = {
    "Today": "today", "Yesterday": "yesterday", "Tomorrow": "tomorrow", "Last7Days": "last7Days",
    "ThisWeek": "thisWeek", "LastWeek": "lastWeek", "NextWeek": "nextWeek",
    "ThisMonth": "thisMonth", "LastMonth": "lastMonth", "NextMonth": "nextMonth",
}
_CELL_IS = {
    "GreaterThan": ("greaterThan", ">"), "GreaterThanEqual": ("greaterThanOrEqual", ">="),
    "LessThan": ("lessThan", "<"), "LessThanEqual": ("lessThanOrEqual", "<="),
    "Equals": ("equal", "="), "NotEquals": ("notEqual", "<>"),
    "Between": ("between", None), "NotBetween": ("notBetween", None), "TextEquals": ("equal", "="),
}


def _time_period_formula(name: str, c: str) -> str:
    """The formula Excel stores beside a timePeriod rule (also used inside AND/OR and row rules)."""
    day = f"FLOOR({c},1)"
    whole = f"ROUNDDOWN({c},0)"
    return {
        "Today": f"{day}=TODAY()",
        "Yesterday": f"{day}=TODAY()-1",
        "Tomorrow": f"{day}=TODAY()+1",
        "Last7Days": f"AND(TODAY()-{day}<=6,{day}<=TODAY())",
        "ThisWeek": f"AND(TODAY()-{whole}<=WEEKDAY(TODAY())-1,{whole}-TODAY()<=7-WEEKDAY(TODAY()))",
        "LastWeek": f"AND(TODAY()-{whole}>=(WEEKDAY(TODAY())),TODAY()-{whole}<(WEEKDAY(TODAY())+7))",
        "NextWeek": f"AND({whole}-TODAY()>(7-WEEKDAY(TODAY())),{whole}-TODAY()<(15-WEEKDAY(TODAY())))",
        "ThisMonth": f"AND(MONTH({c})=MONTH(TODAY()),YEAR({c})=YEAR(TODAY()))",
        "LastMonth": f"AND(MONTH({c})=MONTH(EDATE(TODAY(),0-1)),YEAR({c})=YEAR(EDATE(TODAY(),0-1)))",
        "NextMonth": f"AND(MONTH({c})=MONTH(EDATE(TODAY(),0+1)),YEAR({c})=YEAR(EDATE(TODAY(),0+1)))",
    }[name]


def quote_text(value: str) -> str:
    """An Excel string literal: "..." with inner quotes doubled (Excel allows 255 characters)."""
    if len(value) > 255:
        raise UnsupportedRuleError(f"text {value[:30]!r}... is {len(value)} characters long",
                                   hint="Excel formulas accept text of at most 255 characters")
    return '"' + value.replace('"', '""') + '"'


def literal_formula(arg) -> str:
    """A rule argument as it appears in a formula: 500, 10%, "Complete"."""
    if isinstance(arg, syntax.Number):
        return arg.text
    if isinstance(arg, syntax.Percent):
        return f"{arg.value.text}%"
    if isinstance(arg, syntax.Text):
        return quote_text(arg.value)
    raise UnsupportedRuleError(f"expected a value, got {type(arg).__name__}",
                               hint="comparisons take numbers or text, not nested conditions")


def _text_arg(cond: syntax.Condition) -> str:
    arg = cond.args[0]
    if isinstance(arg, syntax.Text):
        return arg.value
    if isinstance(arg, syntax.Number):
        return arg.text
    raise UnsupportedRuleError(f"{cond.name} needs a text argument", hint=f"e.g. {cond.name}(Done)")


def _rank(cond: syntax.Condition) -> tuple[int, bool, bool]:
    """(rank, percent, bottom) of a top/bottom rule; default top 10."""
    bottom = cond.name in ("bottom", "BottomPercent")
    percent = cond.name in ("TopPercent", "BottomPercent")
    rank_value = 10.0
    if cond.args:
        arg = cond.args[0]
        if isinstance(arg, syntax.Percent):
            percent, rank_value = True, arg.value.value
        elif isinstance(arg, syntax.Number):
            rank_value = arg.value
        else:
            raise UnsupportedRuleError(f"{cond.name} needs a number", hint=f"e.g. {cond.name}(5) or {cond.name}(10%)")
    limit = 100 if percent else 1000
    if rank_value != int(rank_value) or not 1 <= rank_value <= limit:
        unit = "percent" if percent else "items"
        raise UnsupportedRuleError(f"{cond.name} rank {rank_value:g} is not a whole number from 1 to {limit}",
                                   hint=f"Excel ranks top/bottom {unit} from 1 to {limit}")
    return int(rank_value), percent, bottom


def _check_arity(cond: syntax.Condition):
    kind = syntax.CATALOGUE.get(cond.name)
    if kind is None:
        raise UnsupportedRuleError(f"unknown rule kind {cond.name!r}",
                                   hint="use one of: " + ", ".join(sorted(syntax.CATALOGUE)))
    n = len(cond.args)
    if n < kind.min_args or (kind.max_args is not None and n > kind.max_args):
        wanted = kind.min_args if kind.min_args == kind.max_args else f"{kind.min_args}..{kind.max_args or 'n'}"
        raise UnsupportedRuleError(f"{cond.name} takes {wanted} argument(s), got {n}")
    return kind


def _is_row_rule(rule) -> bool:
    leaves = [c for c in syntax.iter_conditions(rule) if c.name not in ("AND", "OR", "NOT")]
    with_column = [c for c in leaves if c.column is not None]
    if with_column and len(with_column) != len(leaves):
        raise UnsupportedRuleError("a rule mixes conditions with and without a column (c[i])",
                                   hint="give every condition a column, or none")
    return bool(with_column)


def _operand(cond: syntax.Condition, rng: CellRange) -> tuple[str, str]:
    """(cell reference, range reference) a condition tests: the top-left cell and the whole range,
    or for c[i] the $-anchored column with a relative row and that column's absolute range."""
    if cond.column is None:
        return rng.top_left, rng.absolute
    if not 0 <= cond.column < rng.width:
        raise UnsupportedRuleError(f"column c[{cond.column}] is outside the range {rng.sqref} "
                                   f"({rng.width} columns)", hint=f"use c[0]..c[{rng.width - 1}]")
    letter = a1.column_letter(rng.min_col + cond.column)
    return f"${letter}{rng.min_row}", f"${letter}${rng.min_row}:${letter}${rng.max_row}"


def condition_formula(cond, rng: CellRange) -> str:
    """A boolean Excel formula (no leading '=') true where the condition holds, for the
    range's top-left cell (relative references), as an `expression` rule needs it."""
    if isinstance(cond, syntax.Formula):
        return _check_formula(cond.formula)
    kind = _check_arity(cond)
    name = cond.name
    if name in ("AND", "OR"):
        return f"{name}({','.join(condition_formula(arg, rng) for arg in _nested(cond))})"
    if name == "NOT":
        return f"NOT({condition_formula(_nested(cond)[0], rng)})"
    if kind.family == "visual":
        raise UnsupportedRuleError(f"{name} shades every cell and cannot be combined or tied to a column",
                                   hint=f"use {name}() on its own, without c[i] or AND/OR/NOT")
    c, whole = _operand(cond, rng)
    if name in ("Between", "NotBetween"):
        low, high = cond.args
        if isinstance(low, syntax.Number) and isinstance(high, syntax.Number) and low.value > high.value:
            low, high = high, low
        lo, hi = literal_formula(low), literal_formula(high)
        if name == "Between":
            return f"AND({c}>={lo},{c}<={hi})"
        return f"OR({c}<{lo},{c}>{hi})"
    if name in _CELL_IS:
        return f"{c}{_CELL_IS[name][1]}{literal_formula(cond.args[0])}"
    if name == "TextContains":
        return f"NOT(ISERROR(SEARCH({quote_text(_text_arg(cond))},{c})))"
    if name == "TextStartsWith":
        text = quote_text(_text_arg(cond))
        return f"LEFT({c},LEN({text}))={text}"
    if name == "TextEndsWith":
        text = quote_text(_text_arg(cond))
        return f"RIGHT({c},LEN({text}))={text}"
    if kind.family == "rank":
        rank, percent, bottom = _rank(cond)
        n = f"MAX(1,INT(COUNT({whole})*{rank}/100))" if percent else f"MIN({rank},COUNT({whole}))"
        return f"{c}<=SMALL({whole},{n})" if bottom else f"{c}>=LARGE({whole},{n})"
    if name == "aboveAverage":
        return f"{c}>AVERAGE({whole})"
    if name == "belowAverage":
        return f"{c}<AVERAGE({whole})"
    if name == "Duplicate":
        return f"COUNTIF({whole},{c})>1"
    if name == "Unique":
        return f"COUNTIF({whole},{c})=1"
    if name == "Blanks":
        return f"LEN(TRIM({c}))=0"
    if name == "Errors":
        return f"ISERROR({c})"
    if name in _TIME_PERIODS:
        return _time_period_formula(name, c)
    raise UnsupportedRuleError(f"no formula for {name}")  # every catalogue kind is handled above


def _nested(cond: syntax.Condition) -> tuple:
    for arg in cond.args:
        if not isinstance(arg, (syntax.Condition, syntax.Formula)):
            raise UnsupportedRuleError(f"{cond.name} combines conditions, got the value {arg!r}",
                                       hint=f"e.g. {cond.name}(GreaterThan(5), LessThan(9))")
    return cond.args


def _check_formula(formula: str) -> str:
    """A user formula rule: strip '=', refuse obviously broken ones before Excel does."""
    text = formula.strip()
    if text.startswith("="):
        text = text[1:].strip()
    if not text:
        raise UnsupportedRuleError("the formula rule is empty", hint="write e.g. =$C2>4000")
    if len(text) > MAX_FORMULA_CHARS:
        raise UnsupportedRuleError(f"the formula is {len(text)} characters long",
                                   hint=f"Excel formulas hold at most {MAX_FORMULA_CHARS} characters")
    depth = 0
    outside_quotes = text.split('"')[::2]
    if text.count('"') % 2:
        raise UnsupportedRuleError(f"the formula {text!r} has an unclosed quote", hint='close every "..."')
    for piece in outside_quotes:
        for ch in piece:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth < 0:
                break
    if depth != 0:
        raise UnsupportedRuleError(f"the formula {text!r} has unbalanced parentheses",
                                   hint="every ( needs a matching )")
    return text


def rule_formula(rule, cell_range: str | CellRange) -> str:
    """The boolean formula (no '=') of a non-visual rule, relative to the range's top-left cell."""
    rng = cell_range if isinstance(cell_range, CellRange) else parse_range(cell_range)
    if isinstance(rule, syntax.Condition):
        _is_row_rule(rule)
    return condition_formula(rule, rng)


# ------------------------------------------------------------------------- native rules

ICON_SETS = syntax.ICON_SETS
DEFAULT_ICON_SET = "3TrafficLights1"    # Excel's default, and the executor's preview
_ICON_ALIASES = {"arrows": "3Arrows", "trafficlights": "3TrafficLights1", "lights": "3TrafficLights1",
                 "flags": "3Flags", "signs": "3Signs", "symbols": "3Symbols", "rating": "5Rating",
                 "ratings": "5Rating", "quarters": "5Quarters", "grayarrows": "3ArrowsGray",
                 "greyarrows": "3ArrowsGray", "3arrowsgrey": "3ArrowsGray"}


def icon_set_name(cond: syntax.Condition) -> str:
    """The OOXML icon set an IconSet rule names ('3Arrows', 'three traffic lights', ...)."""
    if not cond.args:
        return DEFAULT_ICON_SET
    arg = cond.args[0]
    raw = arg.value if isinstance(arg, syntax.Text) else getattr(arg, "text", str(arg))
    key = re.sub(r"[\s_\-]", "", str(raw)).lower()
    for word, digit in (("three", "3"), ("four", "4"), ("five", "5")):
        key = key.replace(word, digit)
    by_lower = {name.lower(): name for name in ICON_SETS}
    name = by_lower.get(key) or _ICON_ALIASES.get(key) or by_lower.get(key + "1")
    if name is None:
        raise UnsupportedRuleError(f"unknown icon set {raw!r}", hint="use one of: " + ", ".join(ICON_SETS))
    return name


def scale_colours(cond: syntax.Condition) -> tuple[str, ...]:
    """Colours of a ColorScale, lowest value first: () -> red/yellow/green; 'red, white'; 'green-yellow-red'."""
    words = []
    for arg in cond.args:
        if isinstance(arg, syntax.Number) and not words and len(cond.args) == 1 and arg.text in ("2", "3"):
            return (DEFAULT_SCALE[0], DEFAULT_SCALE[2]) if arg.text == "2" else DEFAULT_SCALE
        raw = arg.value if isinstance(arg, syntax.Text) else getattr(arg, "text", "")
        tokens = re.findall(r"#[0-9A-Fa-f]{6}|[A-Z]?[a-z]+|[A-Z]+(?![a-z])", raw)
        merged, i = [], 0
        while i < len(tokens):    # "light blue" stays one colour
            if tokens[i].lower() in ("light", "dark", "bright") and i + 1 < len(tokens):
                merged.append(f"{tokens[i]} {tokens[i + 1]}")
                i += 2
            else:
                if tokens[i].lower() not in ("to", "and", "then", "scale", "color", "colour"):
                    merged.append(tokens[i])
                i += 1
        words.extend(merged)
    if not words:
        return DEFAULT_SCALE
    try:
        colours = tuple(_visual_colour(w) for w in words)
    except ValueError as exc:
        raise UnsupportedRuleError(str(exc), hint="ColorScale(red, yellow, green) lists colours lowest first")
    if len(colours) == 1:
        return ("#FFFFFF", colours[0])   # white to the colour
    if len(colours) > 3:
        raise UnsupportedRuleError(f"a colour scale has 2 or 3 colours, got {len(colours)}",
                                   hint="ColorScale(red, yellow, green)")
    return colours


def _visual_colour(word: str) -> str:
    """A colour-scale / data-bar colour: syntax.COLOURS first (the executor's preview uses the same
    table), then the wider styles vocabulary and '#RRGGBB'."""
    key = re.sub(r"\s+", "", word).lower()
    if key in syntax.COLOURS:
        return syntax.COLOURS[key].upper()
    return scale_colour(word)


def bar_colour(cond: syntax.Condition) -> str:
    if not cond.args:
        return DEFAULT_BAR_COLOUR
    arg = cond.args[0]
    raw = arg.value if isinstance(arg, syntax.Text) else getattr(arg, "text", "")
    try:
        return _visual_colour(raw)
    except ValueError as exc:
        raise UnsupportedRuleError(str(exc), hint="DataBar(blue) or DataBar(#638EC6)")


def differential_style(style: Style | None) -> DifferentialStyle:
    """The <dxf> of a highlight rule (Excel stores a dxf's solid fill colour in bgColor)."""
    style = with_defaults(style)
    argb = lambda hex_colour: "FF" + hex_colour[1:]   # noqa: E731
    font = None
    if style.font_color or style.bold or style.italic or style.underline or style.strike:
        font = Font(color=argb(style.font_color) if style.font_color else None,
                    b=style.bold or None, i=style.italic or None,
                    u="single" if style.underline else None, strike=style.strike or None)
    fill = PatternFill(bgColor=argb(style.fill)) if style.fill else None
    border = None
    if style.border:
        side = Side(style="thin", color=argb(style.border))
        border = Border(left=side, right=side, top=side, bottom=side)
    return DifferentialStyle(font=font, fill=fill, border=border)


def to_openpyxl_rule(rule, cell_range: str | CellRange, style: Style | None = None) -> Rule:
    """One native openpyxl Rule for a CF-language rule over `cell_range` (priority left at 0)."""
    rng = cell_range if isinstance(cell_range, CellRange) else parse_range(cell_range)
    if isinstance(rule, syntax.Formula):
        return Rule(type="expression", formula=[_check_formula(rule.formula)], dxf=differential_style(style))
    if not isinstance(rule, syntax.Condition):
        raise UnsupportedRuleError(f"expected a parsed rule, got {type(rule).__name__}",
                                   hint="parse the text with cf_rules.parser.parse first")
    if _is_row_rule(rule):
        return Rule(type="expression", formula=[condition_formula(rule, rng)], dxf=differential_style(style))

    kind = _check_arity(rule)
    name, c = rule.name, rng.top_left
    dxf = differential_style(style)

    if kind.family == "visual":
        if name == "ColorScale":
            colours = ["FF" + h[1:] for h in scale_colours(rule)]
            if len(colours) == 2:
                return ColorScaleRule(start_type="min", start_color=colours[0], end_type="max", end_color=colours[1])
            return ColorScaleRule(start_type="min", start_color=colours[0], mid_type="percentile", mid_value=50,
                                  mid_color=colours[1], end_type="max", end_color=colours[2])
        if name == "DataBar":
            return DataBarRule(start_type="min", end_type="max", color="FF" + bar_colour(rule)[1:])
        icons = icon_set_name(rule)
        count = int(icons[0])
        return IconSetRule(icons, "percent", [round(100 * i / count) for i in range(count)])

    if name in _CELL_IS:
        operator = _CELL_IS[name][0]
        if name == "TextEquals":
            formulas = [quote_text(_text_arg(rule))]
        else:
            formulas = [literal_formula(arg) for arg in rule.args]
        return Rule(type="cellIs", operator=operator, formula=formulas, dxf=dxf)
    if name == "TextContains":
        text = _text_arg(rule)
        return Rule(type="containsText", operator="containsText", text=text,
                    formula=[condition_formula(rule, rng)], dxf=dxf)
    if name == "TextStartsWith":
        return Rule(type="beginsWith", operator="beginsWith", text=_text_arg(rule),
                    formula=[condition_formula(rule, rng)], dxf=dxf)
    if name == "TextEndsWith":
        return Rule(type="endsWith", operator="endsWith", text=_text_arg(rule),
                    formula=[condition_formula(rule, rng)], dxf=dxf)
    if kind.family == "rank":
        rank, percent, bottom = _rank(rule)
        return Rule(type="top10", rank=rank, percent=percent or None, bottom=bottom or None, dxf=dxf)
    if name == "aboveAverage":
        return Rule(type="aboveAverage", dxf=dxf)
    if name == "belowAverage":
        return Rule(type="aboveAverage", aboveAverage=False, dxf=dxf)
    if name == "Duplicate":
        return Rule(type="duplicateValues", dxf=dxf)
    if name == "Unique":
        return Rule(type="uniqueValues", dxf=dxf)
    if name == "Blanks":
        return Rule(type="containsBlanks", formula=[f"LEN(TRIM({c}))=0"], dxf=dxf)
    if name == "Errors":
        return Rule(type="containsErrors", formula=[f"ISERROR({c})"], dxf=dxf)
    if name in _TIME_PERIODS:
        return Rule(type="timePeriod", timePeriod=_TIME_PERIODS[name],
                    formula=[_time_period_formula(name, c)], dxf=dxf)
    if name == "NOT":
        inner = _nested(rule)[0]
        # Excel has native "does not" forms for these three; everything else is an expression
        if isinstance(inner, syntax.Condition) and not inner.args and inner.name == "Blanks":
            return Rule(type="notContainsBlanks", formula=[f"LEN(TRIM({c}))>0"], dxf=dxf)
        if isinstance(inner, syntax.Condition) and not inner.args and inner.name == "Errors":
            return Rule(type="notContainsErrors", formula=[f"NOT(ISERROR({c}))"], dxf=dxf)
        if isinstance(inner, syntax.Condition) and inner.name == "TextContains" and len(inner.args) == 1:
            text = _text_arg(inner)
            return Rule(type="notContainsText", operator="notContains", text=text,
                        formula=[f"ISERROR(SEARCH({quote_text(text)},{c}))"], dxf=dxf)
    # AND / OR / other NOTs
    return Rule(type="expression", formula=[condition_formula(rule, rng)], dxf=dxf)


def write_rules_to_worksheet(ws, rules) -> None:
    """For workbooks built with openpyxl: add (rule, cell_range, style) triples to `ws`;
    openpyxl stores the dxfs and priorities when the workbook is saved."""
    for rule, cell_range, style in rules:
        rng = parse_range(cell_range)
        ws.conditional_formatting.add(rng.sqref, to_openpyxl_rule(rule, rng, style))
