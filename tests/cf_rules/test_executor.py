"""execute(): which cells each rule kind formats, on tables with mixed types, blanks, errors,
numbers stored as text, ties, dates and unicode; plus hypothesis invariants."""
import random
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_rules.syntax import Condition, Formula, Number, Text
from cf_rules.errors import TableError, UnsupportedRuleError
from cf_rules.executor import execute, percentile
from cf_rules.parser import parse
from cf_rules.table import ERROR_CODES, ExcelError, Table, table_from_json

TODAY = date(2024, 5, 22)   # a Wednesday: Excel's week is Sun 2024-05-19 .. Sat 2024-05-25

# One benchmark-style column (Index, Value) with every kind of value in it.
MIXED = ["", "619.5", "abc", "#N/A", "40", " ", "619.5", "ABC", "500", True, "日本語テキスト", "-3"]
#         0    1       2      3       4     5    6        7      8      9     10              11


def hits(rule: str, values, **kw) -> list[int]:
    """Data-row indices of a one-column (Value) table that `rule` formats."""
    table = table_from_json([["Index", "Value"]] + [[i, v] for i, v in enumerate(values)])
    result = execute(parse(rule), table, columns=[1], today=kw.pop("today", TODAY), **kw)
    rows = [int(a[1:]) - 2 for a in result.cells]
    assert all(a.startswith("B") for a in result.cells)
    return rows


# --- compare (cellIs) -------------------------------------------------------------------------

def test_greater_than_formats_text_like_excel():
    # text is greater than any number in Excel; errors never match; a blank is 0
    assert hits("GreaterThan(500)", MIXED) == [1, 2, 5, 6, 7, 9, 10]


def test_less_than_formats_blanks_as_zero():
    assert hits("LessThan(500)", MIXED) == [0, 4, 11]
    assert hits("LessThanEqual(500)", MIXED) == [0, 4, 8, 11]
    assert hits("GreaterThanEqual(619.5)", MIXED) == [1, 2, 5, 6, 7, 9, 10]


def test_equals_and_not_equals():
    assert hits("Equals(619.5)", MIXED) == [1, 6]
    assert hits("Equals(0)", MIXED) == [0]                      # the blank cell is 0
    assert hits("Equals(abc)", MIXED) == [2, 7]                 # text equality ignores case
    assert hits("NotEquals(619.5)", MIXED) == [0, 2, 4, 5, 7, 8, 9, 10, 11]   # not the error


def test_between_is_inclusive_and_takes_bounds_either_way():
    assert hits("Between(40, 500)", MIXED) == [4, 8]
    assert hits("Between(500, 40)", MIXED) == [4, 8]
    assert hits("Between(-5, 0)", MIXED) == [0, 11]
    assert hits("NotBetween(40, 500)", MIXED) == [0, 1, 2, 5, 6, 7, 9, 10, 11]


def test_percent_literal_compares_as_fraction():
    assert hits("GreaterThan(50%)", ["0.6", "40%", "0.4"]) == [0]


def test_long_literals_keep_their_digits():
    rule = "AND(GreaterThan(0),OR(LessThan(-5251.4737555988249),GreaterThan(14668.417877816035)))"
    assert hits(rule, ["14668.417877816035", "14668.42", "100", "-6000", "0"]) == [1]


# --- text rules -------------------------------------------------------------------------------

def test_text_contains_is_case_insensitive_and_reads_numbers_as_text():
    assert hits("TextContains(b)", MIXED) == [2, 7]
    assert hits("TextContains(19)", MIXED) == [1, 6]            # 619.5 contains "19"
    assert hits("TextContains(テキ)", MIXED) == [10]
    assert hits("TextContains(TRU)", MIXED) == [9]


def test_text_contains_uses_search_wildcards():
    assert hits("TextContains(a*c)", ["abc", "ac", "xa-yc", "ca"]) == [0, 1, 2]
    assert hits("TextContains(a?c)", ["abc", "ac"]) == [0]
    assert hits("TextContains('~*')", ["a*b", "ab"]) == [0]


def test_blanks_never_match_text_rules_but_not_contains_does():
    values = ["", "done", "Undone", "#VALUE!"]
    assert hits("TextContains(done)", values) == [1, 2]
    assert hits("NOT(TextContains(done))", values) == [0]       # the error stays unformatted
    assert hits("TextEquals('')", values) == []


def test_starts_ends_equals():
    values = ["Alpha", "alphabet", "beta", "ALPHA", "165", "a*pha"]
    assert hits("TextStartsWith(alp)", values) == [0, 1, 3]
    assert hits("TextEndsWith(HA)", values) == [0, 3, 5]
    assert hits("TextEquals(alpha)", values) == [0, 3]
    assert hits("TextEquals(165)", values) == [4]               # the number 165 as text
    assert hits("TextStartsWith(a*)", values) == [5]            # no wildcards outside contains


def test_unicode_negation_from_the_benchmark():
    values = ["情報は正しく入力されています", "未入力", "", "適用"]
    assert hits("NOT(TextEquals(情報は正しく入力されています))", values) == [1, 2, 3]
    assert hits("NOT(TextContains(適))", values) == [0, 1, 2]


# --- rank -------------------------------------------------------------------------------------

def test_top_and_bottom_count_numbers_only():
    assert hits("top(1)", MIXED) == [1, 6]                      # tie on 619.5: both
    assert hits("top(2)", MIXED) == [1, 6]
    assert hits("top(3)", MIXED) == [1, 6, 8]
    assert hits("bottom(1)", MIXED) == [11]
    assert hits("bottom(2)", MIXED) == [4, 11]


def test_ties_include_every_cell_equal_to_the_nth_value():
    values = ["5", "9", "9", "7", "7", "7", "1"]
    assert hits("top(2)", values) == [1, 2]
    assert hits("top(3)", values) == [1, 2, 3, 4, 5]
    assert hits("bottom(2)", values) == [0, 6]


def test_top_n_larger_than_count_formats_every_number():
    assert hits("top(50)", ["1", "x", "", "2"]) == [0, 3]


def test_percent_rounds_down_with_at_least_one():
    values = [str(v) for v in range(1, 21)]                     # 20 numbers
    assert hits("top(10%)", values) == [18, 19]                 # floor(2.0) = 2
    assert hits("top(14%)", values) == [18, 19]                 # floor(2.8) = 2
    assert hits("bottom(15%)", values) == [0, 1, 2]
    assert hits("top(1%)", values) == [19]                      # floor(0.2) = 0 -> 1
    assert hits("TopPercent(20)", values) == [16, 17, 18, 19]


def test_default_top_is_ten():
    values = [str(v) for v in range(30)]
    assert hits("top()", values) == list(range(20, 30))


def test_not_of_rank_applies_to_numbers_only():
    assert hits("NOT(top(3))", MIXED) == [4, 11]


def test_dates_rank_as_serial_numbers():
    assert hits("top(1)", ["2024-01-01", "45000", "2023-12-31"]) == [0]


# --- averages ---------------------------------------------------------------------------------

def test_average_over_numbers_only():
    # numbers: 619.5, 40, 619.5, 500, -3 -> mean 355.2
    assert hits("aboveAverage()", MIXED) == [1, 6, 8]
    assert hits("belowAverage()", MIXED) == [4, 11]


def test_value_equal_to_average_is_neither():
    assert hits("aboveAverage()", ["1", "2", "3"]) == [2]
    assert hits("belowAverage()", ["1", "2", "3"]) == [0]


def test_benchmark_below_average_labels():
    values = ["34444", "355945", "76818", "8863", "12771"]       # mean 97768.2
    assert hits("belowAverage()", values) == [0, 2, 3, 4]


# --- duplicates -------------------------------------------------------------------------------

def test_duplicate_and_unique_ignore_case_blanks_and_errors():
    assert hits("Duplicate()", MIXED) == [1, 2, 6, 7]
    assert hits("Unique()", MIXED) == [4, 5, 8, 9, 10, 11]


def test_errors_are_neither_duplicate_nor_unique():
    values = ["#N/A", "#N/A", "", "", "x"]
    assert hits("Duplicate()", values) == []
    assert hits("Unique()", values) == [4]


# --- state ------------------------------------------------------------------------------------

def test_blanks_and_errors():
    assert hits("Blanks()", MIXED) == [0, 5]
    assert hits("NOT(Blanks())", MIXED) == [1, 2, 4, 6, 7, 8, 9, 10, 11]
    assert hits("Errors()", MIXED) == [3]
    assert hits("NOT(Errors())", MIXED) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]
    values = ["#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#N/A", "#OOPS"]
    assert hits("Errors()", values) == list(range(7))


def test_blanks_only_trims_spaces():
    assert hits("Blanks()", ["   ", "\t", "", " a "]) == [0, 2]


# --- dates ------------------------------------------------------------------------------------

DATES = ["2024-05-22", "2024-05-21", "2024-05-23", "2024-05-16", "2024-05-15", "2024-05-19",
         "2024-05-25", "2024-05-18", "2024-05-12", "2024-05-11", "2024-05-26", "2024-06-01",
         "2024-06-02", "2024-04-30", "2024-05-01", "2024-05-31", "2024-06-15", "", "soon",
         "2024-05-22T23:59", "2023-05-22"]


@pytest.mark.parametrize("rule, expected", [
    ("Today()", [0, 19]),
    ("Yesterday()", [1]),
    ("Tomorrow()", [2]),
    ("Last7Days()", [0, 1, 3, 5, 7, 19]),
    ("ThisWeek()", [0, 1, 2, 5, 6, 19]),
    ("LastWeek()", [3, 4, 7, 8]),
    ("NextWeek()", [10, 11, 15]),
    ("ThisMonth()", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 19]),
    ("LastMonth()", [13]),
    ("NextMonth()", [11, 12, 16]),
])
def test_date_periods_use_excel_weeks_and_months(rule, expected):
    assert hits(rule, DATES) == expected


def test_date_periods_across_a_year_end():
    values = ["2023-12-31", "2024-01-01", "2024-02-03", "2023-12-30"]
    assert hits("LastMonth()", values, today=date(2024, 1, 3)) == [0, 3]
    assert hits("ThisWeek()", values, today=date(2024, 1, 3)) == [0, 1]     # Sun 12-31 .. Sat 01-06
    assert hits("LastWeek()", values, today=date(2024, 1, 3)) == [3]
    assert hits("NextMonth()", values, today=date(2024, 1, 3)) == [2]


def test_sunday_starts_the_week():
    sunday = date(2024, 5, 19)
    assert hits("ThisWeek()", ["2024-05-18", "2024-05-19", "2024-05-25", "2024-05-26"], today=sunday) == [1, 2]


def test_default_today_is_the_real_date():
    today = date.today().isoformat()
    assert hits("Today()", [today, "2000-01-01"], today=None) == [0]


# --- logic ------------------------------------------------------------------------------------

def test_and_or_not_on_the_same_cell():
    assert hits("AND(GreaterThanEqual(25),LessThan(50))", ["25", "49.9", "50", "", "x", "30"]) == [0, 1, 5]
    assert hits("OR(TextEquals(p), TextEquals(ul))", ["p", "P", "ul", "li", ""]) == [0, 1, 2]
    assert hits("NOT(GreaterThan(5))", ["1", "9", "x", "", "#N/A"]) == [0, 3]


def test_unknown_cells_follow_three_valued_logic():
    values = ["#N/A", "x", "7", "1"]
    assert hits("OR(Errors(), GreaterThan(5))", values) == [0, 1, 2]
    assert hits("AND(Errors(), GreaterThan(5))", values) == []
    assert hits("OR(top(1), TextEquals(x))", values) == [1, 2]
    assert hits("AND(NOT(top(1)), LessThan(100))", values) == [3]


# --- row rules and columns --------------------------------------------------------------------

SALES = table_from_json([
    ["Name", "Region", "Sales"],
    ["Ann", "East", "120"],
    ["Bob", "west", "80"],
    ["Cy", "EAST", "300"],
    ["Dee", "", "#N/A"],
    ["Eve", "North", "300"],
])


def test_row_rule_formats_whole_rows():
    result = execute(parse("AND(GreaterThan(c[2], 100), TextEquals(c[1], east))"), SALES)
    assert result.cells == ["A2", "B2", "C2", "A4", "B4", "C4"]


def test_row_rule_ranks_within_its_column():
    assert execute(parse("top(c[2], 1)"), SALES).cells == ["A4", "B4", "C4", "A6", "B6", "C6"]
    assert execute(parse("Blanks(c[1])"), SALES).cells == ["A5", "B5", "C5"]
    # `columns` selects the range of cell rules; row rules always format the whole row
    assert execute(parse("Blanks(c[1])"), SALES, columns=[0]).cells == ["A5", "B5", "C5"]


def test_cell_rule_over_several_columns_ranks_the_whole_range():
    t = table_from_json([["A", "B"], ["1", "9"], ["8", "2"]])
    assert execute(parse("top(2)"), t).cells == ["B2", "A3"]
    assert execute(parse("GreaterThan(1)"), t, columns=[0]).cells == ["A3"]
    assert execute(parse("Duplicate()"), table_from_json([["A", "B"], ["x", "X"]])).cells == ["A2", "B2"]


def test_sheet_origin_moves_addresses():
    t = Table(["Sales"], [[5], [50]], origin=(4, 3))
    assert execute(parse("GreaterThan(10)"), t).cells == ["C6"]


def test_bad_columns_and_column_references():
    with pytest.raises(TableError, match="column 3 is not in the table"):
        execute(parse("GreaterThan(1)"), SALES, columns=[3])
    with pytest.raises(TableError, match="c\\[7\\]"):
        execute(parse("GreaterThan(c[7], 1)"), SALES)
    with pytest.raises(UnsupportedRuleError, match="every condition or in none"):
        execute(Condition("AND", None, (Condition("GreaterThan", 1, (Number(1, "1"),)),
                                        Condition("LessThan", None, (Number(9, "9"),)))), SALES)


def test_rules_built_by_hand_are_checked():
    with pytest.raises(UnsupportedRuleError, match="unknown rule"):
        execute(Condition("Sparkle"), SALES)
    with pytest.raises(UnsupportedRuleError, match="cannot be combined"):
        execute(Condition("NOT", None, (Condition("DataBar"),)), SALES)
    with pytest.raises(UnsupportedRuleError, match="impossible count"):
        execute(Condition("top", None, (Number(2.5, "2.5"),)), SALES)
    with pytest.raises(UnsupportedRuleError, match="needs a number"):
        execute(Condition("top", None, (Text("ten"),)), SALES)
    with pytest.raises(TypeError):
        execute("GreaterThan(5)", SALES)


def test_empty_table():
    t = table_from_json([["A"]])
    assert execute(parse("top(3)"), t).cells == []
    assert execute(parse("ColorScale()"), t).visual == {}
    assert execute(parse("=A2>1"), t).cells == []


def test_formula_rule_runs_through_execute():
    result = execute(Formula("$C2>=300"), SALES, columns=[0, 1, 2])
    assert result.cells == ["A4", "B4", "C4", "A6", "B6", "C6"]
    assert execute(parse("=B2=\"east\""), SALES, columns=[1]).cells == ["B2", "B4"]


# --- visual rules -----------------------------------------------------------------------------

def visual(rule: str, values):
    table = table_from_json([["Value"]] + [[v] for v in values])
    return execute(parse(rule), table).visual


def test_default_color_scale_is_red_yellow_green():
    vis = visual("ColorScale()", ["0", "50", "100", "x", "", "50"])
    assert vis == {"A2": {"color": "#F8696B"}, "A3": {"color": "#FFEB84"},
                   "A4": {"color": "#63BE7B"}, "A7": {"color": "#FFEB84"}}
    # 75 is halfway from the median (50) to the max: (255+99)/2, (235+190)/2, (132+123)/2
    assert visual("ColorScale()", ["0", "50", "100", "75", "50"])["A5"] == {"color": "#B1D580"}


def test_color_scale_midpoint_is_the_50th_percentile():
    assert percentile([0, 25, 50, 100], 0.5) == 37.5
    vis = visual("ColorScale()", ["0", "25", "50", "100"])
    # 25 is 2/3 of the way from 0 to 37.5: red (248,105,107) + (yellow - red) * 2/3, rounded
    assert vis["A3"] == {"color": "#FDC07C"}


def test_two_and_three_colour_scales_with_names_and_hex():
    vis = visual("ColorScale(white, '#000000')", ["0", "10", "5"])
    assert [v["color"] for v in vis.values()] == ["#FFFFFF", "#000000", "#808080"]
    vis = visual("ColorScale(#0000FF, #FFFFFF, #FF0000)", ["1", "2", "3"])
    assert [v["color"] for v in vis.values()] == ["#0000FF", "#FFFFFF", "#FF0000"]


def test_color_scale_with_equal_values():
    assert set(v["color"] for v in visual("ColorScale()", ["7", "7"]).values()) == {"#FFEB84"}
    assert set(v["color"] for v in visual("ColorScale(white, black)", ["7", "7"]).values()) == {"#FFFFFF"}


def test_data_bar_fraction_and_colour():
    vis = visual("DataBar()", ["10", "20", "x", "30", "#N/A"])
    assert vis == {"A2": {"bar": 0.0, "color": "#638EC6"}, "A3": {"bar": 0.5, "color": "#638EC6"},
                   "A5": {"bar": 1.0, "color": "#638EC6"}}
    assert visual("DataBar(red)", ["1"])["A2"] == {"bar": 1.0, "color": "#F8696B"}


def test_icon_set_default_thresholds():
    vis = visual("IconSet()", ["0", "32", "33", "66", "67", "100"])
    assert [v["index"] for v in vis.values()] == [0, 0, 1, 1, 2, 2]
    assert {v["icon"] for v in vis.values()} == {"3TrafficLights1"}


@pytest.mark.parametrize("name, expected", [
    ("4Arrows", [0, 0, 2, 3, 3, 3]),         # 0 / 25 / 50 / 75
    ("5Rating", [0, 1, 2, 3, 3, 4]),         # 0 / 20 / 40 / 60 / 80
    ("3Symbols", [0, 0, 1, 2, 2, 2]),
])
def test_named_icon_sets(name, expected):
    vis = visual(f"IconSet({name})", ["0", "20", "50", "75", "79", "100"])
    assert [v["index"] for v in vis.values()] == expected
    assert {v["icon"] for v in vis.values()} == {name}


def test_visual_cells_are_the_numeric_cells():
    table = table_from_json([["Index", "Value"]] + [[i, v] for i, v in enumerate(MIXED)])
    result = execute(parse("IconSet()"), table, columns=[1])
    assert result.cells == ["B3", "B6", "B8", "B10", "B13"] == list(result.visual)


def test_visual_rule_on_a_named_column():
    result = execute(parse("DataBar(c[2])"), SALES)
    assert result.cells == ["C2", "C3", "C4", "C6"]


# --- hypothesis invariants --------------------------------------------------------------------

cell_values = st.one_of(
    st.none(),
    st.integers(-20, 20),
    st.floats(-100, 100, allow_nan=False).map(lambda x: round(x, 2)),
    st.sampled_from(["a", "A", "b", "B a", " ", "", "x*y", "10", "zz"]).map(lambda s: s or None),
    st.booleans(),
    st.sampled_from(ERROR_CODES).map(ExcelError),
    st.dates(date(2024, 4, 1), date(2024, 6, 30)),
)
tables = st.lists(cell_values, min_size=0, max_size=25).map(lambda vs: Table(["V"], [[v] for v in vs]))

LEAVES = ["GreaterThan(3)", "LessThan(0)", "Equals(a)", "Between(-5, 5)", "TextContains(a)",
          "TextEquals(b a)", "TextStartsWith(B)", "top(3)", "bottom(20%)", "aboveAverage()",
          "belowAverage()", "Duplicate()", "Unique()", "Blanks()", "Errors()", "ThisMonth()",
          "LastWeek()", "Last7Days()"]


def _cells(rule, table, **kw):
    return set(execute(parse(rule) if isinstance(rule, str) else rule, table, today=TODAY, **kw).cells)


def _numeric(table):
    return {table.address(r, 0) for r in range(table.n_rows)
            if isinstance(table.value(r, 0), (int, float, date, datetime))
            and not isinstance(table.value(r, 0), bool)}


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from(LEAVES))
def test_not_is_the_complement_where_the_rule_applies(table, leaf):
    inside, outside = _cells(leaf, table), _cells(f"NOT({leaf})", table)
    assert not inside & outside
    assert _cells(f"NOT(NOT({leaf}))", table) == inside
    errors = _cells("Errors()", table)
    everything = {table.address(r, 0) for r in range(table.n_rows)}
    applies = {"top(3)": _numeric(table), "bottom(20%)": _numeric(table),
               "aboveAverage()": _numeric(table), "belowAverage()": _numeric(table)}
    if leaf in applies:
        assert inside | outside == applies[leaf]
    elif leaf not in ("Duplicate()", "Unique()", "ThisMonth()", "LastWeek()", "Last7Days()", "Errors()"):
        assert inside | outside == everything - errors


@settings(max_examples=60, deadline=None)
@given(tables, st.integers(1, 8))
def test_top_n_takes_at_least_n_and_only_the_largest(table, n):
    top = _cells(f"top({n})", table)
    numeric = _numeric(table)
    assert len(top) >= min(n, len(numeric)) and top <= numeric
    bottom = _cells(f"bottom({n})", table)
    assert len(bottom) >= min(n, len(numeric))
    value = {table.address(r, 0): table.value(r, 0) for r in range(table.n_rows)}
    key = lambda a: value[a].toordinal() + 1e6 if isinstance(value[a], date) else value[a]  # noqa: E731
    if top and numeric - top:
        assert min(key(a) for a in top) > max(key(a) for a in numeric - top)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_above_and_below_average_are_disjoint(table):
    above, below = _cells("aboveAverage()", table), _cells("belowAverage()", table)
    assert not above & below and (above | below) <= _numeric(table)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_duplicate_and_unique_partition_the_filled_cells(table):
    dup, uni = _cells("Duplicate()", table), _cells("Unique()", table)
    filled = {table.address(r, 0) for r in range(table.n_rows)
              if table.value(r, 0) is not None and not isinstance(table.value(r, 0), ExcelError)}
    assert not dup & uni and dup | uni == filled


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from(["top(3)", "bottom(2)", "top(25%)", "aboveAverage()", "Duplicate()",
                                "Unique()", "belowAverage()", "Blanks()"]), st.randoms())
def test_set_rules_do_not_depend_on_row_order(table, rule, rnd):
    order = list(range(table.n_rows))
    rnd.shuffle(order)
    shuffled = Table(table.header, [table.rows[i] for i in order])
    before = {int(a[1:]) - 2 for a in _cells(rule, table)}
    after = {order[int(a[1:]) - 2] for a in _cells(rule, shuffled)}
    assert before == after


@settings(max_examples=60, deadline=None)
@given(tables, st.integers(-10, 10), st.integers(-10, 10))
def test_between_is_two_comparisons(table, a, b):
    low, high = min(a, b), max(a, b)
    assert _cells(f"Between({a}, {b})", table) == _cells(
        f"AND(GreaterThanEqual({low}), LessThanEqual({high}))", table)
    assert _cells(f"NotBetween({a}, {b})", table) == _cells(f"NOT(Between({a}, {b}))", table)


@settings(max_examples=40, deadline=None)
@given(tables, st.sampled_from(["ColorScale()", "DataBar()", "IconSet()", "IconSet(5Arrows)",
                                "ColorScale(red, green)"]))
def test_visual_rules_draw_every_numeric_cell(table, rule):
    result = execute(parse(rule), table)
    assert set(result.cells) == set(result.visual) == _numeric(table)
    for v in result.visual.values():
        assert 0.0 <= v.get("bar", 0.0) <= 1.0
        assert 0 <= v.get("index", 0) < 5
        assert v.get("color", "#000000").startswith("#") and len(v.get("color", "#000000")) == 7


def test_results_are_row_major():
    t = table_from_json([["A", "B"]] + [[str(random.Random(i).randint(0, 9)), "5"] for i in range(6)])
    cells = execute(parse("GreaterThan(3)"), t).cells
    keys = [(int(a[1:]), a[0]) for a in cells]
    assert keys == sorted(keys)


# --- the fast paths agree with the per-cell definition ------------------------------------------

_CELL = st.one_of(
    st.none(), st.booleans(), st.integers(-10**18, 10**18), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 499.999, 500, 500.0, 1e20, 2**53 + 1]), st.text(max_size=6),
    st.sampled_from(["North", "north", "", " ", "500", "abc"]), st.dates(), st.datetimes(),
    st.sampled_from(sorted(ERROR_CODES)).map(ExcelError))
_COMPARISONS = {"GreaterThan": lambda c: c > 0, "GreaterThanEqual": lambda c: c >= 0, "LessThan": lambda c: c < 0,
                "LessThanEqual": lambda c: c <= 0, "Equals": lambda c: c == 0, "NotEquals": lambda c: c != 0}


@settings(max_examples=60, deadline=None)
@given(st.lists(_CELL, min_size=1, max_size=30), st.sampled_from(sorted(_COMPARISONS)),
       st.sampled_from([500, 0, -3.25, 1e20, 45000]))
def test_number_comparisons_match_excel_compare_on_every_kind_of_cell(cells, name, bound):
    """A comparison with a number literal takes a fast path for number, text and date cells; every
    cell must still get exactly `test(compare(cell, bound))` (None on errors)."""
    from cf_rules.table import compare, is_error
    table = Table(["v"], [[v] for v in cells])
    got = execute(Condition(name, None, (Number(bound, str(bound)),)), table).cells
    want = [table.address(r, 0) for r, v in enumerate(cells)
            if not is_error(v) and _COMPARISONS[name](compare(v, bound))]
    assert got == want


@given(st.lists(_CELL, min_size=1, max_size=30), st.sampled_from(["1", "north", "true", "0", "e+", "4500"]))
@settings(max_examples=60, deadline=None)
def test_text_rules_read_each_cell_as_excel_text_also_when_values_repeat(cells, needle):
    """Text rules cache each value's folded text; 1, 1.0 and True must keep their own text ("TRUE")."""
    from cf_rules.table import as_text, is_error
    table = Table(["v"], [[v] for v in cells + [True, 1, 1.0, -0.0]])
    got = execute(Condition("TextContains", None, (Text(needle),)), table).cells
    want = [table.address(r, 0) for r, (v,) in enumerate(table.rows)
            if v is not None and not is_error(v) and needle in as_text(v).casefold()]
    assert got == want
