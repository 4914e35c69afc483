"""Native Excel conditional-formatting rules, written into real workbooks without losing anything.

Two layers:

* `to_openpyxl_rule(rule, cell_range, style)` turns one rule of the CF language into one
  openpyxl `Rule` of the native type Excel itself would write (`cellIs`, `containsText`,
  `top10`, `timePeriod`, `colorScale`, ...), with a `DifferentialStyle` for highlight rules.
  Logic (AND/OR/NOT), row rules (`c[i]`) and `=` formula rules become `expression` rules whose
  formula is relative to the range's top-left cell (`=$C2>4000` for a row rule over A2:D20).
  `rule_formula(rule, cell_range)` gives that boolean formula for any non-visual rule.

* `apply_rules(xlsx_bytes, [RuleApplication(rule, sheet, cell_range, style)]) -> bytes` edits
  the package surgically. openpyxl's load/save drops charts' formatting, images, pivot tables,
  VBA, slicers, comment shapes and x14 extensions, so the workbook is never round-tripped
  through it. Instead every zip part is copied unchanged except the target sheets' XML and
  xl/styles.xml, and in those two only bytes are *inserted*:
    - styles.xml: new `<dxf>` entries appended inside `<dxfs>` (created between cellStyles and
      tableStyles, the CT_Stylesheet position, when absent) and its `count` updated;
    - sheet XML: `<conditionalFormatting sqref=..>` elements after the last element that
      CT_Worksheet puts before them (sheetData ... phoneticPr, or an existing
      conditionalFormatting), i.e. before dataValidations/hyperlinks/pageMargins/drawing/extLst.
  Why bytes and not a DOM: ElementTree re-serialises every namespace prefix (ns0:, ns1:) and
  drops `mc:Ignorable` declarations that Excel needs, so a parse/serialise round trip would
  change every byte of a sheet. A parse (defusedxml) is still used to *check* the structure:
  the byte scanner's list of top-level elements must equal the parser's, or the write is
  refused. New elements use the document's own prefix for the main namespace.
  New rules get priorities above the sheet's current maximum (x14 rules included), so the
  existing rules keep their numbers and their precedence. Anything that cannot be written
  without risk (strict OOXML, chartsheets, non-UTF-8 parts, a missing styles part) is refused
  with a WorkbookError; the input bytes are never modified.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from openpyxl.formatting.rule import ColorScaleRule, DataBarRule, IconSetRule, Rule
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from .. import syntax
from ..errors import UnsupportedRuleError
from .styles import DEFAULT_BAR_COLOUR, DEFAULT_SCALE, Style, scale_colour, with_defaults
from .safety import check_workbook, workbook_error

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAX_ROWS, MAX_COLS = 1_048_576, 16_384
MAX_FORMULA_CHARS = 8192

# ---------------------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class CellRange:
    """A rectangular A1 range, 1-based inclusive bounds."""
    min_col: int
    min_row: int
    max_col: int
    max_row: int

    @property
    def sqref(self) -> str:
        first = f"{get_column_letter(self.min_col)}{self.min_row}"
        last = f"{get_column_letter(self.max_col)}{self.max_row}"
        return first if first == last else f"{first}:{last}"

    @property
    def top_left(self) -> str:
        return f"{get_column_letter(self.min_col)}{self.min_row}"

    @property
    def absolute(self) -> str:
        return (f"${get_column_letter(self.min_col)}${self.min_row}:"
                f"${get_column_letter(self.max_col)}${self.max_row}")

    @property
    def width(self) -> int:
        return self.max_col - self.min_col + 1


_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def parse_range(text: str) -> CellRange:
    """'A1:D20' or 'B7' (optional $) -> CellRange; WorkbookError when malformed or past Excel's limits."""
    parts = str(text).strip().split(":")
    matches = [_CELL.fullmatch(p.strip()) for p in parts]
    if not 1 <= len(parts) <= 2 or not all(matches):
        raise workbook_error("workbook_bad_range", f"{text!r} is not a cell range",
                             "write a range like A1:D20 (or a single cell like B7)")
    cells = []
    for match in matches:
        col, row = column_index_from_string(match.group(1).upper()), int(match.group(2))
        if not (1 <= col <= MAX_COLS and 1 <= row <= MAX_ROWS):
            raise workbook_error("workbook_bad_range", f"{text!r} is outside the sheet",
                                 f"Excel sheets end at column XFD and row {MAX_ROWS}")
        cells.append((col, row))
    (c1, r1), (c2, r2) = cells[0], cells[-1]
    return CellRange(min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2))


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
    letter = get_column_letter(rng.min_col + cond.column)
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


# ---------------------------------------------------------------------------- packages

@dataclass(frozen=True)
class RuleApplication:
    rule: object              # syntax.Condition | syntax.Formula
    sheet: str
    cell_range: str
    style: Style | None = None


_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE"
    r"|<(/?)([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>",
    re.S)


@dataclass
class _Node:
    name: str       # qualified name as written (prefix:local)
    start: int      # offset of '<'
    end: int        # offset after the element's last '>'
    start_tag_end: int
    empty: bool     # self-closing


def _local(qname: str) -> str:
    return qname.split(":", 1)[-1]


def _scan(text: str, part: str) -> tuple[_Node, list[_Node]]:
    """The root element and its direct children with their character spans. sheetData's
    content is skipped in one jump (it is most of a sheet and holds no element we edit)."""
    root, children, stack = None, [], []
    pos = 0
    while True:
        m = _TOKEN.search(text, pos)
        if m is None:
            break
        pos = m.end()
        if m.group(2) is None:
            if m.group(0) == "<!DOCTYPE":
                raise workbook_error("workbook_xml_dtd", f"{part} declares a DTD", "remove the DOCTYPE")
            continue
        closing, qname, empty = m.group(1) == "/", m.group(2), m.group(4) == "/"
        if closing:
            if not stack or stack[-1].name != qname:
                raise workbook_error("workbook_corrupt", f"{part} is not well-formed near offset {m.start()}",
                                     "open and re-save the workbook in Excel")
            node = stack.pop()
            node.end = m.end()
            if not stack:
                return root, children
            continue
        node = _Node(qname, m.start(), m.end() if empty else -1, m.end(), empty)
        if root is None:
            root = node
            if empty:
                return root, children
            stack.append(node)
            continue
        if len(stack) == 1:
            children.append(node)
        if empty:
            continue
        if _local(qname) == "sheetData" and len(stack) == 1:
            close = text.find(f"</{qname}>", m.end())
            if close < 0:
                break
            node.end = close + len(qname) + 3
            pos = node.end
            continue
        stack.append(node)
    raise workbook_error("workbook_corrupt", f"{part} ends before its root element closes",
                         "the file is truncated or damaged; re-save it in Excel")


def _decode(data: bytes, part: str) -> tuple[str, bytes]:
    """UTF-8 text of a part and its BOM (kept so the output differs only by the insertion)."""
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    head = data[len(bom):len(bom) + 200]
    declared = re.search(rb"encoding=[\"']([A-Za-z0-9_\-]+)", head.split(b"?>")[0]) if head.startswith(b"<?xml") else None
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise workbook_error("workbook_unsupported_encoding", f"{part} is encoded as {declared.group(1).decode()}",
                             "re-save the workbook in Excel (it writes UTF-8)")
    try:
        return data[len(bom):].decode("utf-8"), bom
    except UnicodeDecodeError:
        raise workbook_error("workbook_unsupported_encoding", f"{part} is not valid UTF-8",
                             "re-save the workbook in Excel")


def _check_structure(text: str, children: list[_Node], part: str) -> Element:
    """Parse (defusedxml) and cross-check the byte scanner; return the parsed root."""
    try:
        root = SafeET.fromstring(text)
    except Exception as exc:  # ParseError or a defusedxml refusal
        raise workbook_error("workbook_corrupt", f"{part} is not valid XML ({exc})",
                             "re-save the workbook in Excel")
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if ns == STRICT_NS:
        raise workbook_error("workbook_strict_ooxml", f"{part} uses Strict Open XML",
                             "save as 'Excel Workbook (.xlsx)', not 'Strict Open XML Spreadsheet'")
    if ns != MAIN_NS:
        raise workbook_error("workbook_corrupt", f"{part} is not a SpreadsheetML part", "check the file")
    parsed = [child.tag.split("}")[-1] for child in root]
    scanned = [_local(node.name) for node in children]
    if parsed != scanned:
        raise workbook_error("workbook_unreadable_layout", f"could not locate the elements of {part} safely",
                             "re-save the workbook in Excel and try again")
    return root


def _prefix_of(node: _Node) -> str:
    return node.name.split(":")[0] + ":" if ":" in node.name else ""


def _render(elem: Element, prefix: str) -> str:
    """Serialise an openpyxl tree (unqualified tags) with the document's main-namespace prefix."""
    def esc(value: str, attr: bool) -> str:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if attr:
            value = value.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
        return value
    tag = prefix + elem.tag.split("}")[-1]
    attrs = "".join(f' {k}="{esc(str(v), True)}"' for k, v in elem.attrib.items())
    inner = esc(elem.text, False) if elem.text else ""
    inner += "".join(_render(child, prefix) for child in elem)
    return f"<{tag}{attrs}>{inner}</{tag}>" if inner else f"<{tag}{attrs}/>"


# CT_Worksheet elements that come before conditionalFormatting
_BEFORE_CF = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
              "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
              "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting")
# CT_Stylesheet elements that come after dxfs
_AFTER_DXFS = ("tableStyles", "colors", "extLst")


def _sheet_parts(files: dict[str, bytes]) -> tuple[dict[str, str], list[str]]:
    """{sheet name: worksheet part path} from xl/workbook.xml and its relationships; plus all
    sheet names (chartsheets included) for error messages."""
    workbook = SafeET.fromstring(files["xl/workbook.xml"])
    rels_name = "xl/_rels/workbook.xml.rels"
    if rels_name not in files:
        raise workbook_error("workbook_corrupt", "xl/_rels/workbook.xml.rels is missing", "re-save the workbook")
    targets = {}
    for rel in SafeET.fromstring(files[rels_name]):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        parts = []
        for piece in path.split("/"):       # resolve "../" in relationship targets
            if piece == "..":
                parts and parts.pop()
            elif piece not in ("", "."):
                parts.append(piece)
        targets[rel.get("Id")] = ("/".join(parts), rel.get("Type", ""))
    sheets, names = {}, []
    for sheet in workbook.iter(f"{{{MAIN_NS}}}sheet"):
        name = sheet.get("name")
        names.append(name)
        target, rel_type = targets.get(sheet.get(f"{{{REL_NS}}}id"), (None, ""))
        if target and rel_type.endswith("/worksheet"):
            sheets[name] = target
    return sheets, names


def _find_sheet(sheets: dict[str, str], names: list[str], wanted: str) -> tuple[str, str]:
    if wanted in sheets:
        return wanted, sheets[wanted]
    for name, part in sheets.items():          # Excel sheet names are case-insensitive
        if name.lower() == str(wanted).lower():
            return name, part
    if wanted in names or str(wanted).lower() in (n.lower() for n in names):
        raise workbook_error("workbook_not_a_worksheet", f"{wanted!r} is a chart sheet or dialog sheet",
                             "conditional formatting applies to worksheets: " + ", ".join(sheets))
    raise workbook_error("workbook_sheet_not_found", f"there is no sheet named {wanted!r}",
                         "the workbook's sheets are: " + ", ".join(repr(n) for n in names))


def _edit_styles(data: bytes, dxfs: list[Element]) -> tuple[bytes, int]:
    """styles.xml with `dxfs` appended; returns (new bytes, index of the first new dxf)."""
    text, bom = _decode(data, "xl/styles.xml")
    root, children = _scan(text, "xl/styles.xml")
    parsed = _check_structure(text, children, "xl/styles.xml")
    prefix = _prefix_of(root)
    existing = parsed.find(f"{{{MAIN_NS}}}dxfs")
    first = len(existing) if existing is not None else 0
    new_xml = "".join(_render(d, prefix) for d in dxfs)
    count = first + len(dxfs)
    node = next((n for n in children if _local(n.name) == "dxfs"), None)
    if node is not None and not node.empty:
        start_tag = text[node.start:node.start_tag_end]
        if re.search(r'\scount="\d*"', start_tag):
            start_tag = re.sub(r'(\scount=")\d*(")', rf"\g<1>{count}\g<2>", start_tag)
        else:
            start_tag = start_tag[:-1] + f' count="{count}">'
        close = node.end - len(f"</{node.name}>")
        text = text[:node.start] + start_tag + text[node.start_tag_end:close] + new_xml + text[close:]
    else:
        element = f'<{prefix}dxfs count="{count}">{new_xml}</{prefix}dxfs>'
        if node is not None:                       # <dxfs count="0"/>
            text = text[:node.start] + element + text[node.end:]
        else:
            after = next((n for n in children if _local(n.name) in _AFTER_DXFS), None)
            at = after.start if after else text.rindex("</")
            text = text[:at] + element + text[at:]
    return bom + text.encode("utf-8"), first


def _edit_sheet(data: bytes, part: str, blocks: list[tuple[str, list[Rule]]]) -> bytes:
    """Sheet XML with one conditionalFormatting element per (sqref, rules) inserted; the rules'
    dxfId are set, priorities continue after the sheet's highest."""
    text, bom = _decode(data, part)
    root, children = _scan(text, part)
    parsed = _check_structure(text, children, part)
    if _local(root.name) != "worksheet":
        raise workbook_error("workbook_not_a_worksheet", f"{part} is not a worksheet", "pick a worksheet")
    priorities = [int(el.get("priority")) for el in parsed.iter()
                  if el.tag.split("}")[-1] == "cfRule" and (el.get("priority") or "").isdigit()]
    priority = max(priorities, default=0)
    prefix = _prefix_of(root)
    pieces = []
    for sqref, rules in blocks:
        block = Element("conditionalFormatting", {"sqref": sqref})
        for rule in rules:
            priority += 1
            rule.priority = priority
            block.append(rule.to_tree())
        pieces.append(_render(block, prefix))
    before = [n for n in children if _local(n.name) in _BEFORE_CF]
    if not before:
        raise workbook_error("workbook_corrupt", f"{part} has no sheetData", "re-save the workbook in Excel")
    at = before[-1].end
    text = text[:at] + "".join(pieces) + text[at:]
    return bom + text.encode("utf-8")


def apply_rules(xlsx: bytes, applications: list[RuleApplication], **safety_limits) -> bytes:
    """A copy of the workbook with each rule added to its sheet and range; every other part is
    copied unchanged. Raises WorkbookError (bad file, sheet, range) or UnsupportedRuleError."""
    check_workbook(xlsx, **safety_limits)
    if not applications:
        raise workbook_error("workbook_no_rules", "there are no rules to write", "pass at least one RuleApplication")
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zin:
        infos = zin.infolist()
        files = {info.filename: zin.read(info) for info in infos}
    sheets, names = _sheet_parts(files)
    if "xl/styles.xml" not in files:
        raise workbook_error("workbook_no_styles", "the workbook has no styles part (xl/styles.xml)",
                             "open and re-save it in Excel, which adds one")

    # rules grouped per sheet part, then per range, in the order given
    per_sheet: dict[str, dict[str, list[Rule]]] = {}
    dxfs: list[Element] = []
    dxf_index: dict[bytes, int] = {}
    pending: list[tuple[Rule, int]] = []
    for app in applications:
        _, part = _find_sheet(sheets, names, app.sheet)
        if part not in files:
            raise workbook_error("workbook_corrupt", f"sheet {app.sheet!r} points at missing part {part}",
                                 "re-save the workbook in Excel")
        rng = parse_range(app.cell_range)
        rule = to_openpyxl_rule(app.rule, rng, app.style)
        if rule.dxf is not None:
            tree = rule.dxf.to_tree()
            key = _render(tree, "").encode()
            if key not in dxf_index:
                dxf_index[key] = len(dxfs)
                dxfs.append(tree)
            pending.append((rule, dxf_index[key]))
        per_sheet.setdefault(part, {}).setdefault(rng.sqref, []).append(rule)

    edited = {}
    if dxfs:
        edited["xl/styles.xml"], first = _edit_styles(files["xl/styles.xml"], dxfs)
        for rule, offset in pending:
            rule.dxfId = first + offset
    for part, blocks in per_sheet.items():
        edited[part] = _edit_sheet(files[part], part, list(blocks.items()))

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info in infos:
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type = info.compress_type if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
                else zipfile.ZIP_DEFLATED
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            zout.writestr(copy, edited.get(info.filename, files[info.filename]))
    result = out.getvalue()
    _verify(result, files, edited, len(applications), len(dxfs), safety_limits)
    return result


def _count(data: bytes, local: str) -> int:
    return sum(1 for el in SafeET.fromstring(data).iter() if el.tag == f"{{{MAIN_NS}}}{local}")


def _verify(result: bytes, before: dict[str, bytes], edited: dict[str, bytes], rules: int, dxfs: int,
            limits: dict) -> None:
    """Refuse to hand back a file whose edited parts do not parse or lack what was added."""
    check_workbook(result, **limits)
    added_rules = sum(_count(data, "cfRule") - _count(before[part], "cfRule")
                      for part, data in edited.items() if part != "xl/styles.xml")
    added_dxfs = _count(edited["xl/styles.xml"], "dxf") - _count(before["xl/styles.xml"], "dxf") if dxfs else 0
    if added_rules != rules or added_dxfs != dxfs:
        raise workbook_error("workbook_write_failed", "the written rules could not be read back",
                             "report this workbook as a bug")
