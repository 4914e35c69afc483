"""The formula subset: Excel values, functions, relative/absolute references per cell."""
from datetime import date

import pytest

from cf_rules.errors import RuleSyntaxError, UnsupportedRuleError
from cf_rules.executor import execute
from cf_rules.formula import SUPPORTED_FUNCTIONS, countif_test, evaluate_formula, excel_round
from cf_rules.parser import parse
from cf_rules.table import ExcelError, Table, table_from_json

# A1:C6 — header in row 1
T = table_from_json([
    ["Name", "Sales", "Note"],
    ["Ann", "619.5", "ok"],          # row 2
    ["bob", "", "  two  spaces "],   # row 3
    ["Cy", "#N/A", "500"],           # row 4 ("500" -> 500 from JSON)
    ["Ann", "40", True],             # row 5
    ["Éva", "2024-05-22", ""],       # row 6
])
TODAY = date(2024, 5, 22)


def ev(formula: str, at: str = "A2", anchor: str | None = None, table: Table = T):
    def pos(a1):
        from openpyxl.utils.cell import coordinate_from_string, column_index_from_string
        col, row = coordinate_from_string(a1)
        return row, column_index_from_string(col)
    return evaluate_formula(formula, table, pos(at), anchor=pos(anchor) if anchor else None, today=TODAY)


NA, VALUE, DIV0, REF = (ExcelError(c) for c in ("#N/A", "#VALUE!", "#DIV/0!", "#REF!"))


@pytest.mark.parametrize("formula, expected", [
    ("=1+2*3", 7), ("=(1+2)*3", 9), ("=-2^2", 4), ("=2^3^2", 64), ("=50%", 0.5), ("=-B5%", -0.4),
    ("=B2+B3", 619.5),                       # a blank is 0
    ('="5"+1', 6), ('="abc"+1', VALUE), ("=1/0", DIV0), ("=B4+1", NA), ("=#REF!", REF),
    ('=A2&"-"&B2', "Ann-619.5"), ("=C5&1", "TRUE1"), ('=B3&""', ""),
    ('=A2="ANN"', True), ('="a"<"B"', True), ('="abc">1E+300', True), ("=TRUE>\"z\"", True),
    ("=B3=0", True), ('=B3=""', True), ("=B4=1", NA), ("=1=1.0", True),
    ("=B6", 45434.0),                        # a date is its serial number
])
def test_operators_and_values(formula, expected):
    assert ev(formula) == expected


@pytest.mark.parametrize("formula, expected", [
    ("=AND(TRUE, 1, B2>600)", True), ("=AND(TRUE, 0)", False), ("=OR(FALSE, B2>600)", True),
    ("=AND(B2:B3)", True),                   # blanks in ranges are skipped
    ("=AND(A2:A3)", VALUE),                  # no logical values at all
    ("=OR(B2:B4)", NA), ('=AND("TRUE")', True), ('=AND("yes")', VALUE),
    ("=NOT(B3)", True), ("=IF(B2>600, \"big\", \"small\")", "big"), ("=IF(B2<0, 1)", False),
    ("=IF(TRUE, 1, 1/0)", 1),                # the other branch is not evaluated
    ("=ISBLANK(B3)", True), ("=ISBLANK(C6)", True), ('=ISBLANK("")', False), ("=ISBLANK(Z99)", True),
    ("=ISNUMBER(B2)", True), ("=ISNUMBER(C4)", True), ('=ISNUMBER("5")', False), ("=ISNUMBER(B6)", True),
    ("=ISTEXT(A2)", True), ("=ISTEXT(B3)", False), ("=ISERROR(B4)", True), ("=ISERROR(1/0)", True),
    ("=ISERROR(B2)", False), ("=ISNUMBER(B4)", False),
])
def test_logic_and_tests(formula, expected):
    assert ev(formula) == expected


@pytest.mark.parametrize("formula, expected", [
    ("=LEN(C3)", 14), ("=LEN(B2)", 5), ("=LEN(B3)", 0), ("=TRIM(C3)", "two spaces"),
    ("=LEFT(A2)", "A"), ("=LEFT(A2, 2)", "An"), ("=RIGHT(A2, 2)", "nn"), ("=RIGHT(A2, 0)", ""),
    ("=LEFT(A2, -1)", VALUE), ("=MID(\"abcdef\", 2, 3)", "bcd"), ("=MID(\"abc\", 0, 1)", VALUE),
    ("=UPPER(A6)", "ÉVA"), ("=LOWER(A2)", "ann"), ("=EXACT(A2, \"ann\")", False), ("=EXACT(A2, \"Ann\")", True),
    ('=SEARCH("n", A2)', 2), ('=SEARCH("N", A2, 3)', 3), ('=SEARCH("z", A2)', VALUE),
    ('=SEARCH("a?n", "xAnn")', 2), ('=FIND("n", "ANn")', 3), ('=FIND("N", "ann")', VALUE),
    ('=VALUE("1,234")', 1234), ('=VALUE("12%")', 0.12), ('=VALUE("x")', VALUE), ("=VALUE(B2)", 619.5),
])
def test_text_functions(formula, expected):
    assert ev(formula) == expected


def test_errors_inside_ranges_propagate():
    assert ev("=SUM(B2:B5)") == NA and ev("=MAX(B2:B6)") == NA and ev("=COUNT(B2:B6)") == 3


@pytest.mark.parametrize("formula, expected", [
    ("=ABS(-3)", 3), ("=ROUND(2.5, 0)", 3), ("=ROUND(-2.5, 0)", -3), ("=ROUND(1.005, 2)", 1.01),
    ("=ROUND(1234.5, -2)", 1200), ("=MOD(-3, 2)", 1), ("=MOD(3, -2)", -1), ("=MOD(1, 0)", DIV0),
    ("=SUM(B2, B3, B5)", 659.5), ("=SUM(A2:A6)", 0), ('=SUM("3", TRUE)', 4), ("=SUM(B5:C5)", 40),
    ("=AVERAGE(B5, C4)", 270), ("=AVERAGE(A2:A3)", DIV0), ("=MIN(B5, C4)", 40), ("=MAX(B5, C4)", 500),
    ("=MAX(A2:A3)", 0), ("=COUNT(B2:B6)", 3), ("=COUNT(A2:C6)", 4), ('=COUNT("1", "x", B4)', 1),
    ("=TODAY()", 45434), ("=TODAY()-B6", 0),
])
def test_math_functions(formula, expected):
    assert ev(formula) == (pytest.approx(expected) if isinstance(expected, (int, float)) else expected)


def test_countif_criteria():
    values = [5, 7.5, "7.5", "Ann", "ann", "anna", None, True, ExcelError("#N/A"), "a*b"]
    count = lambda c: sum(1 for v in values if countif_test(c)(v))  # noqa: E731
    assert count(7.5) == 2                   # number criteria match numeric text too
    assert count(">5") == 1 and count(">=5") == 2 and count("<>5") == 9
    assert count("ann") == 2 and count("ann*") == 3 and count("a~*b") == 1 and count("?nn") == 2
    assert count("") == 1 and count("=") == 1 and count("<>") == 9
    assert count(True) == 1 and count("TRUE") == 1
    assert count(">b") == 0 and count("<b") == 5


def test_countif_in_a_formula():
    assert ev("=COUNTIF($A$2:$A$6, A2)") == 2
    assert ev("=COUNTIF(B2:B6, \">100\")") == 2   # 619.5 and the date serial
    assert ev("=COUNTIF(B5, 40)") == 1             # a single cell is a 1x1 range
    assert ev("=COUNTIF(1, 1)") == VALUE


# --- references -------------------------------------------------------------------------------

def test_relative_references_shift_from_the_anchor():
    assert ev("=B2", at="B3", anchor="B2") is None             # B3 is blank
    assert ev("=B2", at="A5", anchor="B2") == "Ann"            # one column left, three down
    assert ev("=$B2", at="C5", anchor="B2") == 40
    assert ev("=B$2", at="C5", anchor="B2") == "ok"
    assert ev("=$B$2", at="C6", anchor="B2") == 619.5
    assert ev("=SUM($B$2:B2)", at="B5", anchor="B2") == NA     # grows to B2:B5, which holds #N/A
    assert ev("=SUM($B$2:B3)", at="B3", anchor="B3") == 619.5


def test_references_outside_the_table_and_sheet():
    assert ev("=Z100") is None and ev("=ISBLANK(D2)") is True
    assert ev("=A1") == "Name"                                 # the header is on the sheet
    assert ev("=A1", at="A2", anchor="A3") == REF              # moved above row 1
    assert ev("=A2", at="A2", anchor="B2") == REF              # moved left of column A


def test_table_placed_elsewhere():
    t = Table(["Sales"], [[5], [50]], origin=(4, 3))          # header C4, data C5:C6
    assert execute(parse("=C5>10"), t).cells == ["C6"]
    assert execute(parse("=A1>10"), t).cells == []


def test_range_in_a_scalar_place_is_value_error():
    assert ev("=B2:B3>1") == VALUE
    assert ev("=ISNUMBER(B2:B3)") is False


def test_rule_formats_true_and_nonzero_numbers_only():
    t = table_from_json([["V"], ["1"], ["0"], ["x"], ["TRUE"], [""], ["#N/A"], ["-2"]])
    assert execute(parse("=A2"), t).cells == ["A2", "A8"]
    assert execute(parse("=ISNUMBER(A2)"), t).cells == ["A2", "A3", "A8"]
    assert execute(parse("=A2=\"x\""), t).cells == ["A4"]


def test_benchmark_style_formula_rules():
    t = table_from_json([["Index", "Value"], [0, "619.5"], [1, "abc"], [2, ""], [3, "619.5"], [4, "40"]])
    assert execute(parse("=AND(ISNUMBER(B2),B2>500)"), t, columns=[1]).cells == ["B2", "B5"]
    assert execute(parse("=COUNTIF($B$2:$B$6,B2)>1"), t, columns=[1]).cells == ["B2", "B5"]
    assert execute(parse("=$B2=$B$2"), t).cells == ["A2", "B2", "A5", "B5"]


# --- errors -----------------------------------------------------------------------------------

def test_unsupported_function_names_it_and_lists_the_subset():
    with pytest.raises(UnsupportedRuleError) as info:
        execute(parse("=VLOOKUP(A2, $A$2:$B$6, 2, FALSE)>1"), T)
    assert "VLOOKUP" in info.value.message
    assert all(name in info.value.hint for name in SUPPORTED_FUNCTIONS)


def test_unsupported_function_in_an_untaken_branch_is_still_reported():
    with pytest.raises(UnsupportedRuleError, match="INDIRECT"):
        execute(parse('=IF(TRUE, 1, INDIRECT("A1"))'), T)


@pytest.mark.parametrize("formula, message", [
    ("=LEFT()", "LEFT\\(\\) takes 1 to 2 arguments, got 0"),
    ("=MID(A2, 1)", "MID\\(\\) takes 3 arguments, got 2"),
    ("=TODAY(1)", "TODAY\\(\\) takes 0 arguments"),
    ("=AND()", "AND\\(\\) takes 1 or more"),
])
def test_wrong_argument_counts(formula, message):
    with pytest.raises(UnsupportedRuleError, match=message):
        execute(parse(formula), T)


def test_syntax_errors_come_from_the_parser():
    with pytest.raises(RuleSyntaxError):
        execute(parse("=A2>"), T)


def test_excel_round_uses_shown_digits():
    assert excel_round(0.285, 2) == 0.29          # binary 0.28499999... but Excel shows 0.285
    assert excel_round(1e20, 2) == 1e20 and excel_round(0.5, 0) == 1 and excel_round(-0.5, 0) == -1
    assert excel_round(123.456, 20) == 123.456


# --- COUNTIF's fast paths agree with the criteria predicate -----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cf_rules.formula_values import Grid, criterion_equality_key, ordered_criterion  # noqa: E402

_cells = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["a", "A", "b", "2", "ab", " "]),
                   st.booleans(), st.just(ExcelError("#N/A")), st.just(date(1900, 1, 2)))
_criteria = st.one_of(_cells, st.builds(lambda op, x: op + x, st.sampled_from(["", "=", "<", "<=", ">", ">=", "<>"]),
                                        st.sampled_from(["", "2", "a", "A", "b", "TRUE", "-1", "a*", "1.5"])))


@settings(max_examples=300, deadline=None)
@given(st.lists(_cells, max_size=12), _criteria)
def test_countif_fast_paths_match_the_predicate(values, criterion):
    grid = Grid([[v] for v in values])
    slow = sum(1 for v in values if countif_test(criterion)(v))
    key = criterion_equality_key(criterion)
    if key is not None:
        assert grid.equal_counts().get(key, 0) == slow
    elif ordered_criterion(criterion) is not None:
        assert grid.count_ordered(*ordered_criterion(criterion)) == slow


def test_anchored_subtrees_are_computed_once():
    rows = [["V"]] + [[str(i)] for i in range(400)]
    t = table_from_json(rows)
    result = execute(parse("=AND(A2>AVERAGE($A$2:$A$401), COUNTIF($A$2:$A$401, \">\"&A2)<10)"), t)
    assert result.cells == [f"A{r}" for r in range(392, 402)]


# --- budgets: ranges read only the table, a rule has a cell-read budget, chains do not recurse ---

SMALL = table_from_json([["V"], [1], [2], [3]])                             # A1:A4
PAIRS = table_from_json([["V", "W"], [1, "x"], [2, None], [3, "y"]])          # A1:B4, B3 blank


@pytest.mark.parametrize("huge, bounded", [
    ("=SUM($A$1:$XFD$1048576)>A2*2", "=SUM($A$1:$A$4)>A2*2"),
    ("=MAX(A$1:A$1048576)=A4", "=MAX(A$1:A$4)=A4"),
    ('=COUNTIF($A$1:$XFD$1048576,"<>")=4', '=COUNTIF($A$1:$A$4,"<>")=4'),
    ("=AVERAGE($A$2:$Z$1048576)<A2+1", "=AVERAGE($A$2:$A$4)<A2+1"),
])
def test_a_range_as_large_as_the_sheet_gives_what_the_table_gives(huge, bounded):
    # the cells outside the table read as blanks, which SUM, MAX, AVERAGE and COUNTIF "<>" skip
    assert execute(parse(huge), SMALL).cells == execute(parse(bounded), SMALL).cells
    assert execute(parse(huge), SMALL).cells


def test_countif_counts_the_blanks_outside_the_table():
    blanks_on_sheet = 1_048_576 * 16_384 - 8 + 1          # every cell but the 8 of the table, plus B3
    assert ev('=COUNTIF($A$1:$XFD$1048576,"")', table=PAIRS) == blanks_on_sheet
    assert ev('=COUNTIF($A$1:$XFD$1048576,"=")', table=PAIRS) == blanks_on_sheet
    assert ev('=COUNTIF($A$1:$XFD$1048576,"<>")', table=PAIRS) == 7
    assert ev('=COUNTIF($C$1:$D$10,"")', table=PAIRS) == 20     # wholly outside the table


def test_a_rule_over_its_cell_read_budget_is_refused(monkeypatch):
    from cf_rules import formula
    from cf_rules.formula import FormulaTooCostly

    rows = [["V"]] + [[i % 7] for i in range(600)]
    table = table_from_json(rows)
    # a moving range from the cell to the end of the data: ~n^2/2 = 180,000 reads
    monkeypatch.setattr(formula, "MAX_CELL_READS", 50_000)
    with pytest.raises(FormulaTooCostly) as info:
        execute(parse("=COUNTIF(A2:A$601,A2)>1"), table)
    assert info.value.code == "formula_too_costly" and "50,000" in info.value.message
    # the same test with an anchored range reads it once
    assert len(execute(parse("=COUNTIF($A$2:$A$601,A2)>1"), table).cells) == 600


@pytest.mark.parametrize("terms", [300, 600, 2000])
def test_a_long_flat_formula_is_evaluated_without_recursion(terms):
    rule = parse("=" + "+".join(["A2"] * terms) + f">{terms * 1.5}")
    assert execute(rule, SMALL).cells == ["A3", "A4"]
    text = "=" + "&".join(['"a"'] * terms) + "=" + '"' + "a" * terms + '"'
    assert execute(parse(text), SMALL).cells == ["A2", "A3", "A4"]


def test_nesting_past_excels_64_levels_is_refused():
    deep = "=" + "IF(A2>0," * 70 + "1" + ",0)" * 70
    with pytest.raises(UnsupportedRuleError, match="64 levels"):
        execute(parse(deep), SMALL)
    ok = "=" + "IF(A2>0," * 60 + "1" + ",0)" * 60
    assert execute(parse(ok), SMALL).cells == ["A2", "A3", "A4"]


@pytest.mark.parametrize("rule", ['=ISNUMBER(SEARCH("a*a*a*a*a*a*b",A2))', '=COUNTIF(A2,"*a*a*a*a*a*a*b")>0',
                                  "TextContains(a*a*a*a*a*a*b)"])
def test_wildcards_do_not_backtrack_on_long_text(rule):
    # a regex with one .* per star takes exponential time here; the pieces are placed in one pass
    table = table_from_json([["V"], ["a" * 20_000], ["a" * 20_000 + "b"]])
    assert execute(parse(rule), table).cells == ["A3"]


def test_wildcards_agree_with_a_regex_on_short_text():
    import random
    import re

    from cf_rules.formula_values import Wildcard

    def regex(pattern):
        out, i = [], 0
        while i < len(pattern):
            if pattern[i] == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
                out.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            out.append({"*": ".*", "?": "."}.get(pattern[i], re.escape(pattern[i])))
            i += 1
        return re.compile("".join(out), re.IGNORECASE | re.DOTALL)

    rng = random.Random(0)
    for _ in range(3000):
        pattern = "".join(rng.choice("ab*?~") for _ in range(rng.randint(0, 6)))
        text = "".join(rng.choice("abAB*?~") for _ in range(rng.randint(0, 8)))
        pos = rng.randint(0, len(text))
        fast, slow = Wildcard(pattern), regex(pattern)
        assert (fast.fullmatch(text) is not None) == (slow.fullmatch(text) is not None), (pattern, text)
        found, expected = fast.search(text, pos), slow.search(text, pos)
        assert (found and found.start()) == (expected and expected.start()), (pattern, text, pos)


def test_text_joined_past_excels_32767_characters_is_a_value_error():
    table = table_from_json([["V"], ["x" * 20_000]])
    assert ev("=LEN(A2&A2)", table=table) == VALUE
    assert ev('=LEN(A2&"y")', table=table) == 20_001
    rule = "=" + "&".join(["A2"] * 2000) + '="x"'      # would be a 40 MB string per cell
    assert execute(parse(rule), table).cells == []
