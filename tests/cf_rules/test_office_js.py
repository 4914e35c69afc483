import json

import pytest

from cf_rules import syntax
from cf_rules.errors import UnsupportedRuleError, WorkbookError
from cf_rules.excel.office_js import PROPERTY_OF_TYPE, WHOLE_VALUE_KEYS, format_payload, office_payload
from cf_rules.excel.styles import Style, style_from_request


def N(value):
    return syntax.Number(float(value), str(value))


def C(name, *args, column=None):
    return syntax.Condition(name, column, tuple(args))


T = syntax.Text
DEFAULT_FORMAT = {"fill": {"color": "#FFC7CE"}, "font": {"color": "#9C0006"}}

# Enum string values from the Office.js reference (ExcelApi 1.6)
CELL_OPERATORS = {"Between", "NotBetween", "EqualTo", "NotEqualTo", "GreaterThan", "LessThan",
                  "GreaterThanOrEqual", "LessThanOrEqual"}
PRESET_CRITERIA = {"Blanks", "NonBlanks", "Errors", "NonErrors", "Yesterday", "Today", "Tomorrow",
                   "LastSevenDays", "LastWeek", "ThisWeek", "NextWeek", "LastMonth", "ThisMonth", "NextMonth",
                   "AboveAverage", "BelowAverage", "UniqueValues", "DuplicateValues"}
TOP_BOTTOM_TYPES = {"TopItems", "TopPercent", "BottomItems", "BottomPercent"}
TEXT_OPERATORS = {"Contains", "NotContains", "BeginsWith", "EndsWith"}


def test_the_documented_example():
    payload = office_payload(C("LessThan", N(500)), "B2:B20", None)
    assert payload == {"address": "B2:B20", "type": "cellValue", "property": "cellValue",
                       "cellValue": {"format": DEFAULT_FORMAT, "rule": {"formula1": "500", "operator": "LessThan"}}}


@pytest.mark.parametrize("rule, operator, formulas", [
    (C("GreaterThan", N(5)), "GreaterThan", ["5"]),
    (C("GreaterThanEqual", N(5)), "GreaterThanOrEqual", ["5"]),
    (C("LessThanEqual", N("2.5")), "LessThanOrEqual", ["2.5"]),
    (C("Equals", N(7)), "EqualTo", ["7"]),
    (C("Equals", T("Done")), "EqualTo", ['="Done"']),
    (C("NotEquals", N(0)), "NotEqualTo", ["0"]),
    (C("Between", N(1), N(9)), "Between", ["1", "9"]),
    (C("NotBetween", N(1), N(9)), "NotBetween", ["1", "9"]),
    (C("TextEquals", T('a"b')), "EqualTo", ['="a""b"']),
])
def test_cell_value_rules(rule, operator, formulas):
    settings = office_payload(rule, "C2:C9")["cellValue"]["rule"]
    assert settings["operator"] == operator and settings["operator"] in CELL_OPERATORS
    assert [settings.get("formula1"), settings.get("formula2")][:len(formulas)] == formulas
    assert ("formula2" in settings) == (len(formulas) == 2)


@pytest.mark.parametrize("rule, operator, text", [
    (C("TextContains", T("Late")), "Contains", "Late"),
    (C("TextStartsWith", T("Op")), "BeginsWith", "Op"),
    (C("TextEndsWith", T("ne")), "EndsWith", "ne"),
    (C("NOT", C("TextContains", T("x"))), "NotContains", "x"),
])
def test_text_comparison_rules(rule, operator, text):
    payload = office_payload(rule, "F2:F13")
    assert payload["type"] == "containsText" and payload["property"] == "textComparison"
    assert payload["textComparison"]["rule"] == {"operator": operator, "text": text}
    assert operator in TEXT_OPERATORS


@pytest.mark.parametrize("rule, rank, kind", [
    (C("top", N(3)), 3, "TopItems"), (C("top"), 10, "TopItems"),
    (C("top", syntax.Percent(N(10))), 10, "TopPercent"), (C("bottom", N(1)), 1, "BottomItems"),
    (C("bottom", syntax.Percent(N(25))), 25, "BottomPercent"), (C("TopPercent", N(5)), 5, "TopPercent"),
])
def test_top_bottom_rules(rule, rank, kind):
    payload = office_payload(rule, "C2:C13")
    assert payload["type"] == "topBottom"
    assert payload["topBottom"]["rule"] == {"rank": rank, "type": kind}


@pytest.mark.parametrize("name, criterion", [
    ("aboveAverage", "AboveAverage"), ("belowAverage", "BelowAverage"), ("Duplicate", "DuplicateValues"),
    ("Unique", "UniqueValues"), ("Blanks", "Blanks"), ("Errors", "Errors"), ("Today", "Today"),
    ("Yesterday", "Yesterday"), ("Tomorrow", "Tomorrow"), ("Last7Days", "LastSevenDays"),
    ("ThisWeek", "ThisWeek"), ("LastWeek", "LastWeek"), ("NextWeek", "NextWeek"),
    ("ThisMonth", "ThisMonth"), ("LastMonth", "LastMonth"), ("NextMonth", "NextMonth"),
])
def test_preset_criteria(name, criterion):
    payload = office_payload(C(name), "A2:A13")
    assert payload["type"] == "presetCriteria" and payload["property"] == "preset"
    assert payload["preset"]["rule"] == {"criterion": criterion} and criterion in PRESET_CRITERIA


def test_negated_presets():
    assert office_payload(C("NOT", C("Blanks")), "A1:A3")["preset"]["rule"]["criterion"] == "NonBlanks"
    assert office_payload(C("NOT", C("Errors")), "A1:A3")["preset"]["rule"]["criterion"] == "NonErrors"


@pytest.mark.parametrize("rule, cell_range, formula", [
    (C("AND", C("GreaterThanEqual", N(25)), C("LessThan", N(50))), "C2:C13", "=AND(C2>=25,C2<50)"),
    (C("NOT", C("GreaterThan", N(5))), "B3:B9", "=NOT(B3>5)"),
    (C("GreaterThan", N(4000), column=2), "A2:D20", "=$C2>4000"),
    (C("top", N(3), column=1), "A2:D20", "=$B2>=LARGE($B$2:$B$20,MIN(3,COUNT($B$2:$B$20)))"),
    (syntax.Formula("=$A2>$B2"), "A2:D20", "=$A2>$B2"),
])
def test_custom_rules(rule, cell_range, formula):
    payload = office_payload(rule, cell_range)
    assert payload["type"] == "custom"
    assert payload["custom"] == {"format": DEFAULT_FORMAT, "rule": {"formula": formula}}


def test_colour_scale_data_bar_icon_set():
    three = office_payload(C("ColorScale"), "B2:B9")["colorScale"]["criteria"]
    assert three["minimum"] == {"formula": None, "type": "LowestValue", "color": "#F8696B"}
    assert three["midpoint"] == {"formula": "50", "type": "Percentile", "color": "#FFEB84"}
    assert three["maximum"]["type"] == "HighestValue" and three["maximum"]["color"] == "#63BE7B"
    two = office_payload(C("ColorScale", T("white"), T("blue")), "B2:B9")["colorScale"]["criteria"]
    assert set(two) == {"minimum", "maximum"} and two["maximum"]["color"] == "#5A8AC6"
    bar = office_payload(C("DataBar", T("green")), "B2:B9")
    assert bar["type"] == "dataBar" and bar["dataBar"]["positiveFormat"]["fillColor"] == "#63BE7B"
    icons = office_payload(C("IconSet", T("3TrafficLights1")), "B2:B9")["iconSet"]
    assert icons["style"] == "ThreeTrafficLights1"
    assert [c.get("formula") for c in icons["criteria"]] == [None, "=33", "=67"]
    assert office_payload(C("IconSet"), "B2:B9")["iconSet"]["style"] == "ThreeTrafficLights1"
    assert office_payload(C("IconSet", T("three arrows")), "B2:B9")["iconSet"]["style"] == "ThreeArrows"
    assert "format" not in bar["dataBar"]


def test_format_payload_from_styles():
    assert format_payload(None) == DEFAULT_FORMAT
    assert format_payload(style_from_request("bold green text")) == {"font": {"color": "#006100", "bold": True}}
    fmt = format_payload(Style(fill="#FFEB9C", italic=True, underline=True, strike=True, border="#9C0006"))
    assert fmt["fill"] == {"color": "#FFEB9C"}
    assert fmt["font"] == {"italic": True, "underline": "Single", "strikethrough": True}
    assert fmt["borders"]["top"] == {"color": "#9C0006", "style": "Continuous"}
    assert set(fmt["borders"]) == {"top", "bottom", "left", "right"}


ALL_RULES = [C("GreaterThan", N(1)), C("TextContains", T("a")), C("top", N(2)), C("Today"), C("ColorScale"),
             C("DataBar"), C("IconSet"), C("OR", C("Blanks"), C("Errors")), syntax.Formula("A1>1"),
             C("Between", N(1), N(2)), C("NOT", C("Blanks"))]


@pytest.mark.parametrize("rule", ALL_RULES)
def test_every_payload_has_the_regular_shape(rule):
    payload = office_payload(rule, "a1:c9", style_from_request("in yellow"))
    assert json.loads(json.dumps(payload)) == payload
    assert set(payload) == {"address", "type", "property", payload["property"]}
    assert payload["address"] == "A1:C9"
    assert PROPERTY_OF_TYPE[payload["type"]] == payload["property"]
    settings = payload[payload["property"]]
    assert isinstance(settings, dict) and settings
    if payload["type"] not in ("colorScale", "dataBar", "iconSet"):
        assert settings["format"] == {"fill": {"color": "#FFEB9C"}, "font": {"color": "#9C5700"}}
        assert "rule" in settings and "rule" in WHOLE_VALUE_KEYS


def test_errors_are_the_writer_errors():
    with pytest.raises(UnsupportedRuleError):
        office_payload(C("top", N(0)), "A1:A9")
    with pytest.raises(WorkbookError):
        office_payload(C("Today"), "A1:Z")
