"""Office.js payloads: what the task pane passes to `range.conditionalFormats.add(type)`.

`office_payload(rule, address, style)` returns one plain JSON-able dict of a fixed shape:

    {
      "address": "B2:B20",            # the range the task pane resolves on the active sheet
      "type": "cellValue",            # Excel.ConditionalFormatType, the argument of add()
      "property": "cellValue",        # the ConditionalFormat property that holds the settings
      "cellValue": {                  # == payload[payload["property"]]
        "format": {"fill": {"color": "#FFC7CE"}, "font": {"color": "#9C0006"}},
        "rule": {"formula1": "500", "operator": "LessThan"}
      }
    }

type -> property: cellValue -> cellValue, containsText -> textComparison, topBottom -> topBottom,
presetCriteria -> preset, custom -> custom, colorScale -> colorScale, dataBar -> dataBar,
iconSet -> iconSet. The generic applier in the task pane does:

    const cf = range.conditionalFormats.add(p.type);
    assign(cf[p.property], p[p.property]);
    // assign(target, settings): for each key, if key is in WHOLE_VALUE_KEYS (or the value is not
    // a plain object) set target[key] = value; otherwise recurse into target[key].

WHOLE_VALUE_KEYS ("rule", "criteria", "lowerBoundRule", "upperBoundRule") are objects that
Office.js only accepts as a whole; every other nested object is walked (format.fill.color,
format.font.bold, format.borders.top.color, positiveFormat.fillColor). Enum values are the
Office.js string values ("LessThan", "TopItems", "LastSevenDays", "ThreeArrows").
Formulas (custom rules, text-equal cellValue) start with "=" and are relative to the range's
top-left cell, the same convention as Excel's own rules.
"""
from __future__ import annotations

from .. import syntax
from ..errors import UnsupportedRuleError
from .native import (CellRange, _check_arity, _is_row_rule, _nested, _rank, _text_arg,
                           bar_colour, condition_formula, icon_set_name, parse_range, quote_text,
                           scale_colours, to_openpyxl_rule)
from .styles import Style, with_defaults

WHOLE_VALUE_KEYS = ("rule", "criteria", "lowerBoundRule", "upperBoundRule")
PROPERTY_OF_TYPE = {
    "cellValue": "cellValue", "containsText": "textComparison", "topBottom": "topBottom",
    "presetCriteria": "preset", "custom": "custom", "colorScale": "colorScale",
    "dataBar": "dataBar", "iconSet": "iconSet",
}
_OPERATORS = {
    "GreaterThan": "GreaterThan", "GreaterThanEqual": "GreaterThanOrEqual", "LessThan": "LessThan",
    "LessThanEqual": "LessThanOrEqual", "Equals": "EqualTo", "NotEquals": "NotEqualTo",
    "Between": "Between", "NotBetween": "NotBetween", "TextEquals": "EqualTo",
}
_PRESETS = {
    "aboveAverage": "AboveAverage", "belowAverage": "BelowAverage", "Duplicate": "DuplicateValues",
    "Unique": "UniqueValues", "Blanks": "Blanks", "Errors": "Errors", "Today": "Today",
    "Yesterday": "Yesterday", "Tomorrow": "Tomorrow", "Last7Days": "LastSevenDays", "ThisWeek": "ThisWeek",
    "LastWeek": "LastWeek", "NextWeek": "NextWeek", "ThisMonth": "ThisMonth", "LastMonth": "LastMonth",
    "NextMonth": "NextMonth",
}
_TEXT_OPERATORS = {"TextContains": "Contains", "TextStartsWith": "BeginsWith", "TextEndsWith": "EndsWith"}
_NUMBER_WORDS = {"3": "Three", "4": "Four", "5": "Five"}


def format_payload(style: Style | None) -> dict:
    """Excel.ConditionalRangeFormat settings for a Style (Excel's default when None)."""
    style = with_defaults(style)
    out: dict = {}
    if style.fill:
        out["fill"] = {"color": style.fill}
    font = {}
    if style.font_color:
        font["color"] = style.font_color
    if style.bold:
        font["bold"] = True
    if style.italic:
        font["italic"] = True
    if style.underline:
        font["underline"] = "Single"
    if style.strike:
        font["strikethrough"] = True
    if font:
        out["font"] = font
    if style.border:
        edge = {"color": style.border, "style": "Continuous"}
        out["borders"] = {side: dict(edge) for side in ("top", "bottom", "left", "right")}
    return out


def _payload(cf_type: str, address: str, settings: dict) -> dict:
    prop = PROPERTY_OF_TYPE[cf_type]
    return {"address": address, "type": cf_type, "property": prop, prop: settings}


def _value_formula(arg) -> str:
    """cellValue formula1/2: numbers as written, text as an ="..." formula."""
    if isinstance(arg, syntax.Number):
        return arg.text
    if isinstance(arg, syntax.Percent):
        return f"={arg.value.text}%"
    if isinstance(arg, syntax.Text):
        return "=" + quote_text(arg.value)
    raise UnsupportedRuleError(f"expected a value, got {type(arg).__name__}")


def office_payload(rule, address: str, style: Style | None = None) -> dict:
    """The Office.js description of one rule over `address` ('B2:B20'); see the module docstring."""
    rng: CellRange = parse_range(address)
    address = rng.sqref
    to_openpyxl_rule(rule, rng, style)     # the same validation as the Excel writer (ranks, colours, ...)
    fmt = format_payload(style)

    def custom(formula: str) -> dict:
        return _payload("custom", address, {"format": fmt, "rule": {"formula": "=" + formula}})

    if isinstance(rule, syntax.Formula) or _is_row_rule(rule):
        return custom(condition_formula(rule, rng))
    kind = _check_arity(rule)
    name = rule.name

    if name == "ColorScale":
        colours = scale_colours(rule)
        criteria = {"minimum": {"formula": None, "type": "LowestValue", "color": colours[0]},
                    "maximum": {"formula": None, "type": "HighestValue", "color": colours[-1]}}
        if len(colours) == 3:
            criteria["midpoint"] = {"formula": "50", "type": "Percentile", "color": colours[1]}
        return _payload("colorScale", address, {"criteria": criteria})
    if name == "DataBar":
        return _payload("dataBar", address, {
            "barDirection": "Context",
            "positiveFormat": {"fillColor": bar_colour(rule), "gradientFill": True},
            "lowerBoundRule": {"type": "LowestValue"},
            "upperBoundRule": {"type": "HighestValue"},
        })
    if name == "IconSet":
        icons = icon_set_name(rule)
        count = int(icons[0])
        criteria = [{}] + [{"type": "Percent", "operator": "GreaterThanOrEqual", "formula": f"={round(100 * i / count)}"}
                           for i in range(1, count)]
        return _payload("iconSet", address, {"style": _NUMBER_WORDS[icons[0]] + icons[1:], "criteria": criteria})

    if name in _OPERATORS:
        if name == "TextEquals":
            formulas = ["=" + quote_text(_text_arg(rule))]
        else:
            formulas = [_value_formula(arg) for arg in rule.args]
        settings = {"formula1": formulas[0], "operator": _OPERATORS[name]}
        if len(formulas) == 2:
            settings["formula2"] = formulas[1]
        return _payload("cellValue", address, {"format": fmt, "rule": settings})
    if name in _TEXT_OPERATORS:
        return _payload("containsText", address, {"format": fmt, "rule": {
            "operator": _TEXT_OPERATORS[name], "text": _text_arg(rule)}})
    if kind.family == "rank":
        rank, percent, bottom = _rank(rule)
        kind_name = ("Bottom" if bottom else "Top") + ("Percent" if percent else "Items")
        return _payload("topBottom", address, {"format": fmt, "rule": {"rank": rank, "type": kind_name}})
    if name in _PRESETS:
        return _payload("presetCriteria", address, {"format": fmt, "rule": {"criterion": _PRESETS[name]}})
    if name == "NOT":
        inner = _nested(rule)[0]
        if isinstance(inner, syntax.Condition) and inner.name in ("Blanks", "Errors") and inner.column is None:
            return _payload("presetCriteria", address, {"format": fmt, "rule": {"criterion": "Non" + inner.name}})
        if isinstance(inner, syntax.Condition) and inner.name == "TextContains" and inner.column is None:
            return _payload("containsText", address, {"format": fmt, "rule": {
                "operator": "NotContains", "text": _text_arg(inner)}})
    return custom(condition_formula(rule, rng))
