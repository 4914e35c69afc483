"""The abstract syntax of the CF rule language.

Every other part of the rule language (parser, printer, explainer, executor, Excel writer)
works on these frozen dataclasses, never on rule strings. `CATALOGUE` is the single place
that says which rule kinds exist, what they are called, which aliases they accept and which
native Excel rule type each becomes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Number:
    """A numeric literal. `text` keeps the spelling from the source so literals copy exactly
    (`2305` stays `2305`, `-5251.4737555988249` keeps every digit)."""
    value: float
    text: str


@dataclass(frozen=True)
class Text:
    """A text literal: bare (`In Progress`) or quoted ('..' / ".."); `value` has no quotes."""
    value: str


@dataclass(frozen=True)
class Percent:
    """`10%` in `top(10%)`."""
    value: Number


Literal = Union[Number, Text, Percent]


@dataclass(frozen=True)
class Condition:
    """One rule call: `name` is the canonical name from CATALOGUE, `column` the optional
    0-based table column from `c[i]`, `args` the literal or nested-condition arguments."""
    name: str
    column: int | None = None
    args: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class Formula:
    """`=` followed by an Excel formula; `formula` is stored without the leading `=`."""
    formula: str


Rule = Union[Condition, Formula]


@dataclass(frozen=True)
class RuleKind:
    name: str                 # canonical spelling (the benchmark's own where it has one)
    aliases: tuple[str, ...]  # other accepted spellings; matching is case-insensitive
    family: str               # compare | text | rank | average | set | state | date | visual | logic
    excel_type: str           # native Excel/OOXML rule type
    min_args: int
    max_args: int | None      # None: any number


def _k(name, family, excel_type, min_args, max_args, *aliases):
    return RuleKind(name, tuple(aliases), family, excel_type, min_args, max_args)


CATALOGUE: dict[str, RuleKind] = {k.name: k for k in [
    _k("GreaterThan", "compare", "cellIs", 1, 1),
    _k("GreaterThanEqual", "compare", "cellIs", 1, 1, "GreaterThanOrEqual"),
    _k("LessThan", "compare", "cellIs", 1, 1),
    _k("LessThanEqual", "compare", "cellIs", 1, 1, "LessThanOrEqual"),
    _k("Equals", "compare", "cellIs", 1, 1, "Equal", "EqualTo"),
    _k("NotEquals", "compare", "cellIs", 1, 1, "NotEqual", "NotEqualTo"),
    _k("Between", "compare", "cellIs", 2, 2),
    _k("NotBetween", "compare", "cellIs", 2, 2),
    _k("TextEquals", "text", "cellIs", 1, 1),
    _k("TextContains", "text", "containsText", 1, 1, "Contains"),
    _k("TextStartsWith", "text", "beginsWith", 1, 1, "StartsWith", "BeginsWith"),
    _k("TextEndsWith", "text", "endsWith", 1, 1, "EndsWith"),
    _k("top", "rank", "top10", 0, 1, "TopN", "TopItems"),
    _k("bottom", "rank", "top10", 0, 1, "BottomN", "BottomItems"),
    _k("TopPercent", "rank", "top10", 0, 1),       # printed as top(N%)
    _k("BottomPercent", "rank", "top10", 0, 1),    # printed as bottom(N%)
    _k("aboveAverage", "average", "aboveAverage", 0, 0, "AboveAvg"),
    _k("belowAverage", "average", "aboveAverage", 0, 0, "BelowAvg"),
    _k("Duplicate", "set", "duplicateValues", 0, 0, "Duplicates", "DuplicateValues"),
    _k("Unique", "set", "uniqueValues", 0, 0, "UniqueValues"),
    _k("Blanks", "state", "containsBlanks", 0, 0, "Blank", "ContainsBlanks"),
    _k("Errors", "state", "containsErrors", 0, 0, "Error", "ContainsErrors"),
    _k("Today", "date", "timePeriod", 0, 0),
    _k("Yesterday", "date", "timePeriod", 0, 0),
    _k("Tomorrow", "date", "timePeriod", 0, 0),
    _k("Last7Days", "date", "timePeriod", 0, 0),
    _k("ThisWeek", "date", "timePeriod", 0, 0),
    _k("LastWeek", "date", "timePeriod", 0, 0),
    _k("NextWeek", "date", "timePeriod", 0, 0),
    _k("ThisMonth", "date", "timePeriod", 0, 0),
    _k("LastMonth", "date", "timePeriod", 0, 0),
    _k("NextMonth", "date", "timePeriod", 0, 0),
    _k("ColorScale", "visual", "colorScale", 0, 3),
    _k("DataBar", "visual", "dataBar", 0, 1),
    _k("IconSet", "visual", "iconSet", 0, 1),
    _k("AND", "logic", "expression", 1, None),
    _k("OR", "logic", "expression", 1, None),
    _k("NOT", "logic", "expression", 1, 1),
]}

_BY_LOWER: dict[str, str] = {}
for _kind in CATALOGUE.values():
    for _spelling in (_kind.name, *_kind.aliases):
        _BY_LOWER[_spelling.lower()] = _kind.name


def canonical_name(spelling: str) -> str | None:
    """The canonical name for any accepted spelling (case-insensitive), or None."""
    return _BY_LOWER.get(spelling.lower())


def iter_conditions(rule: Rule):
    """Every Condition in the rule, depth first (logic nodes before their children)."""
    if isinstance(rule, Condition):
        yield rule
        for arg in rule.args:
            if isinstance(arg, Condition):
                yield from iter_conditions(arg)


# Icon sets Excel (and openpyxl) can write natively; IconSet(...) accepts these names, any case.
ICON_SETS: tuple[str, ...] = (
    "3Arrows", "3ArrowsGray", "3Flags", "3TrafficLights1", "3TrafficLights2", "3Signs",
    "3Symbols", "3Symbols2", "4Arrows", "4ArrowsGray", "4RedToBlack", "4Rating",
    "4TrafficLights", "5Arrows", "5ArrowsGray", "5Rating", "5Quarters",
)

# Colour names ColorScale(...) and DataBar(...) accept (besides '#RRGGBB'). red, yellow, green
# and blue are the shades Excel's own colour scales use; the rest are the usual web colours.
COLOURS: dict[str, str] = {
    "red": "#F8696B", "yellow": "#FFEB84", "green": "#63BE7B", "blue": "#5A8AC6",
    "white": "#FFFFFF", "black": "#000000", "orange": "#FFA500", "purple": "#800080",
    "pink": "#FFC0CB", "gray": "#808080", "grey": "#808080", "brown": "#A52A2A",
    "cyan": "#00FFFF", "magenta": "#FF00FF", "lightblue": "#ADD8E6", "lightgreen": "#90EE90",
    "lightred": "#FFC7CE", "darkgreen": "#006400", "darkred": "#8B0000", "darkblue": "#00008B",
}
