"""Explainer: one plain-English line for every rule kind, cell rules and row rules."""
import pytest
from hypothesis import given, settings

from cf_rules.syntax import CATALOGUE, Condition, Formula, Number, canonical_name
from cf_rules.explain import explain
from cf_rules.parser import parse
from tests.cf_rules.test_printer import rules

# one example per catalogue kind (TopPercent/BottomPercent are read as top/bottom with a %)
EXAMPLES = {
    "GreaterThan(500)": "Highlights cells that are greater than 500",
    "GreaterThanEqual(25)": "Highlights cells that are greater than or equal to 25",
    "LessThan(500)": "Highlights cells that are less than 500",
    "LessThanEqual(2.5)": "Highlights cells that are less than or equal to 2.5",
    "Equals(4)": "Highlights cells that are equal to 4",
    "NotEquals(Done)": "Highlights cells that are not equal to 'Done'",
    "Between(10, 20)": "Highlights cells that are between 10 and 20",
    "NotBetween(10, 20)": "Highlights cells that are not between 10 and 20",
    "TextEquals(In Progress)": "Highlights cells that are exactly 'In Progress'",
    "TextContains(经济)": "Highlights cells that contain '经济'",
    "StartsWith(A)": "Highlights cells that start with 'A'",
    "EndsWith(.com)": "Highlights cells that end with '.com'",
    "top(10)": "Highlights cells that are in the top 10",
    "bottom(3)": "Highlights cells that are in the bottom 3",
    "TopPercent(20)": "Highlights cells that are in the top 20%",
    "BottomPercent(5)": "Highlights cells that are in the bottom 5%",
    "aboveAverage()": "Highlights cells that are above average",
    "belowAverage()": "Highlights cells that are below average",
    "Duplicate()": "Highlights cells that are duplicates",
    "Unique()": "Highlights cells that are unique",
    "Blanks()": "Highlights cells that are blank",
    "Errors()": "Highlights cells that are errors",
    "Today()": "Highlights cells that are dated today",
    "Yesterday()": "Highlights cells that are dated yesterday",
    "Tomorrow()": "Highlights cells that are dated tomorrow",
    "Last7Days()": "Highlights cells that are dated in the last 7 days",
    "ThisWeek()": "Highlights cells that are dated this week",
    "LastWeek()": "Highlights cells that are dated last week",
    "NextWeek()": "Highlights cells that are dated next week",
    "ThisMonth()": "Highlights cells that are dated this month",
    "LastMonth()": "Highlights cells that are dated last month",
    "NextMonth()": "Highlights cells that are dated next month",
    "ColorScale(green, yellow, red)": "Shades cells with a green-yellow-red colour scale",
    "DataBar(blue)": "Draws blue data bars in cells",
    "IconSet(3Arrows)": "Adds icons from the 3Arrows set to cells",
    "AND(GreaterThanEqual(25), LessThan(50))":
        "Highlights cells that are greater than or equal to 25 and are less than 50",
    "OR(TextEquals(p), TextEquals(ul))": "Highlights cells that are exactly 'p' or are exactly 'ul'",
    "NOT(TextContains(適))": "Highlights cells that do not contain '適'",
}


@pytest.mark.parametrize("text, expected", EXAMPLES.items())
def test_every_kind(text, expected):
    assert explain(parse(text)) == expected


def test_examples_cover_the_whole_catalogue():
    assert {canonical_name(text.split("(")[0]) for text in EXAMPLES} == set(CATALOGUE)


def test_header_names_a_single_column():
    assert explain(parse("LessThan(500)"), ["Sales"]) == "Highlights cells in column Sales that are less than 500"
    assert explain(parse("LessThan(500)"), ["Index", "Sales"]) == "Highlights cells that are less than 500"


def test_row_rules_name_their_columns():
    header = ["Region", "Sales"]
    assert explain(parse("StartsWith(c[0], A)"), header) == "Highlights rows where Region starts with 'A'"
    assert explain(parse("AND(GreaterThan(c[1], 500), NOT(EndsWith(c[0], X)))"), header) == \
        "Highlights rows where Sales is greater than 500 and Region does not end with 'X'"
    assert explain(parse("top(c[1], 3)"), header) == "Highlights rows where Sales is in the top 3"
    assert explain(parse("Duplicate(c[0])"), header) == "Highlights rows where Region is a duplicate"
    assert explain(parse("Blanks(c[5])"), header) == "Highlights rows where column 6 is blank"
    assert explain(parse("Errors(c[0])")) == "Highlights rows where column 1 is an error"


def test_negation_is_pushed_to_the_leaves():
    assert explain(parse("NOT(Blanks())")) == "Highlights cells that are not blank"
    assert explain(parse("NOT(AND(GreaterThan(1), LessThan(5)))")) == \
        "Highlights cells that are not greater than 1 or are not less than 5"
    assert explain(parse("NOT(NOT(Blanks()))")) == "Highlights cells that are blank"
    assert explain(parse("NOT(NotEquals(5))")) == "Highlights cells that are equal to 5"
    assert explain(parse("NOT(Between(1, 5))")) == "Highlights cells that are not between 1 and 5"
    assert explain(parse('NOT(TextEquals(""))')) == "Highlights cells that are not empty text"


def test_nested_logic_is_parenthesised():
    text = "AND(GreaterThan(0), OR(LessThan(-5251.4737555988249), GreaterThan(14668.417877816035)))"
    assert explain(parse(text)) == ("Highlights cells that are greater than 0 and "
                                    "(are less than -5251.4737555988249 or are greater than 14668.417877816035)")


def test_visual_defaults_and_columns():
    assert explain(parse("ColorScale()")) == "Shades cells with the default colour scale"
    assert explain(parse("ColorScale('#F8696B', white)")) == "Shades cells with a #F8696B-white colour scale"
    assert explain(parse("DataBar()"), ["Sales"]) == "Draws data bars in cells in column Sales"
    assert explain(parse("IconSet()")) == "Adds icons from the default icon set to cells"
    assert explain(parse("IconSet(c[1], 5Rating)"), ["Name", "Score"]) == \
        "Adds icons from the 5Rating set to column Score"


def test_formula_and_values():
    assert explain(Formula("$A2=$A3")) == "Highlights cells for which the formula =$A2=$A3 is TRUE"
    assert explain(parse("Equals(50%)")) == "Highlights cells that are equal to 50%"
    assert explain(Condition("GreaterThan", None, (Number(1e5, "1e5"),))) == \
        "Highlights cells that are greater than 1e5"


def test_rejects_what_is_not_a_rule():
    with pytest.raises(ValueError):
        explain(Condition("Nope", None, ()))


def test_control_characters_stay_on_one_line():
    assert explain(parse('TextContains("a\nb")')) == "Highlights cells that contain 'a\\nb'"


@settings(max_examples=200, deadline=None)
@given(rules())
def test_every_generated_rule_has_a_one_line_explanation(rule):
    line = explain(rule, ["Region", "Sales", "Units"])
    assert line.split(" ")[0] in ("Highlights", "Shades", "Draws", "Adds")
    assert "\n" not in line and "\r" not in line
