"""Tables from JSON and from sheets, and the Excel value semantics in table.py."""
from datetime import date, datetime

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_rules.errors import TableError, WorkbookError
from cf_rules.table import (ExcelError, Table, as_text, compare, comparer, load_table, number_text,
                                    table_from_json, table_from_sheet, to_serial)


# --- JSON -------------------------------------------------------------------------------------

def test_json_values_are_read_the_way_the_task_pane_reads_them():
    t = table_from_json([["Index", "Value"], [0, ""], [1, "619.5"], [2, "1,234"], [3, "33.07%"],
                         [4, "2024-03-05"], [5, "#N/A"], [6, "Status"], [7, True], [8, None],
                         [9, "  "], [10, "-1e3"], [11, "8/27/2020"], [12, "12 Days"]])
    assert t.column(1) == [None, 619.5, 1234, pytest.approx(0.3307), date(2024, 3, 5),
                           ExcelError("#N/A"), "Status", True, None, "  ", -1000.0, "8/27/2020", "12 Days"]
    assert isinstance(t.value(2, 1), int)
    assert t.origin == (1, 1) and t.address(0, 0) == "A2" and t.address(12, 1) == "B14"
    assert t.data_range() == "A2:B14"


def test_numbers_too_large_for_excel_stay_text():
    assert table_from_json([["V"], ["1e400"], [" 12 "]]).column(0) == ["1e400", 12]


def test_iso_datetime_and_impossible_dates():
    t = table_from_json([["When"], ["2024-03-05T10:30"], ["2024-13-45"]])
    assert t.column(0) == [datetime(2024, 3, 5, 10, 30), "2024-13-45"]


def test_ragged_rows_are_padded_with_blanks():
    t = table_from_json([["A", "B", "C"], [1], [1, 2, 3], []])
    assert t.rows == [[1, None, None], [1, 2, 3], [None, None, None]]


def test_unicode_is_kept():
    t = table_from_json([["名前", "状態"], ["情報", "適用"]])
    assert t.header == ["名前", "状態"] and t.rows == [["情報", "適用"]]


@pytest.mark.parametrize("obj, message", [
    ({"a": 1}, "non-empty list of rows"),
    ([], "non-empty list of rows"),
    ([["A"], "x"], "row 1 of the table is a str"),
    ([[]], "header row"),
    ([["A", 3]], "header cell 1 is 3"),
    ([["A"], [1, 2]], "row 1 has 2 cells but the header has 1"),
    ([["A"], [[1]]], "row 1, column 0 holds a list"),
    ([["A"], [{"v": 1}]], "holds a dict"),
    ([["A"], [float("nan")]], "not an Excel number"),
])
def test_bad_json_tables_say_what_and_where(obj, message):
    with pytest.raises(TableError) as info:
        table_from_json(obj)
    assert message in info.value.message
    assert info.value.hint


# --- sheets -----------------------------------------------------------------------------------

def _workbook(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Name", "Sales", "When"])
    ws.append(["Ann", 619.5, datetime(2024, 5, 1)])
    ws.append(["Bob", "500", None])              # a number stored as text stays text
    ws.append(["Cy", None, "x"])
    ws["B4"].value = "#DIV/0!"
    ws["B4"].data_type = "e"
    wb.create_sheet("Other")["C3"] = "h"
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


def test_sheet_keeps_stored_types_and_origin(tmp_path):
    t = load_table(_workbook(tmp_path), sheet="Data", range="A1:C4")
    assert t.header == ["Name", "Sales", "When"]
    assert t.column(1) == [619.5, "500", ExcelError("#DIV/0!")]
    assert t.column(2) == [datetime(2024, 5, 1), None, "x"]
    assert t.origin == (1, 1)


def test_sheet_range_elsewhere_sets_the_origin(tmp_path):
    t = load_table(_workbook(tmp_path), sheet="Data", range="B2:C4")
    assert t.origin == (2, 2) and t.header == ["619.5", "2024-05-01 00:00:00"]
    assert t.address(0, 0) == "B3" and t.value(0, 0) == "500"


def test_default_sheet_and_used_range(tmp_path):
    t = load_table(_workbook(tmp_path))
    assert t.header == ["Name", "Sales", "When"] and t.n_rows == 3


def test_range_past_the_data_reads_blanks(tmp_path):
    wb = openpyxl.load_workbook(_workbook(tmp_path))
    t = table_from_sheet(wb["Data"], "A1:D6")
    assert t.n_rows == 5 and t.n_cols == 4 and t.rows[-1] == [None] * 4


def test_missing_sheet_lists_the_sheets(tmp_path):
    with pytest.raises(TableError) as info:
        load_table(_workbook(tmp_path), sheet="Sales")
    assert "no sheet 'Sales'" in info.value.message
    assert "'Data'" in info.value.hint and "'Other'" in info.value.hint


@pytest.mark.parametrize("bad", ["A1:", "ZZZZ1:A2", "hello", "A:A"])
def test_bad_range_names_the_used_range(tmp_path, bad):
    with pytest.raises(TableError) as info:
        load_table(_workbook(tmp_path), sheet="Data", range=bad)
    assert "A1:C4" in info.value.hint


def test_huge_range_is_refused(tmp_path):
    with pytest.raises(TableError, match="at most"):
        load_table(_workbook(tmp_path), sheet="Data", range="A1:Z20000")


def test_file_errors(tmp_path):
    with pytest.raises(TableError, match="does not exist"):
        load_table(tmp_path / "nope.json")
    (tmp_path / "t.csv").write_text("a,b")
    with pytest.raises(TableError, match="cannot read tables from .csv"):
        load_table(tmp_path / "t.csv")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(WorkbookError):                 # workbook_safety refuses it before openpyxl
        load_table(tmp_path / "bad.xlsx")
    (tmp_path / "bad.json").write_text("[[1,")
    with pytest.raises(TableError, match="not valid JSON"):
        load_table(tmp_path / "bad.json")
    (tmp_path / "ok.json").write_text('[["A"], [1]]')
    with pytest.raises(TableError, match="only apply to workbooks"):
        load_table(tmp_path / "ok.json", sheet="Data")
    assert load_table(tmp_path / "ok.json").rows == [[1]]


# --- Excel value semantics --------------------------------------------------------------------

def test_compare_orders_numbers_text_logicals():
    assert compare("abc", 1e300) == 1          # any text is greater than any number
    assert compare(True, "zzz") == 1           # logicals are greater than text
    assert compare("ABC", "abc") == 0          # case-insensitive
    assert compare("a", "B") == -1
    assert compare(None, 0) == 0 and compare(None, -1) == 1 and compare(None, "") == 0
    assert compare(None, False) == 0 and compare(None, None) == 0
    assert compare(date(1900, 1, 1), 1) == 0   # dates are serial numbers


class _Int(int):
    """An int subclass: must take the general path of the comparison, not the exact-type one."""


VALUES = [None, 0, -1, 1, 2.5, float("-0.0"), 10**20, _Int(3), True, False, "", "abc", "ABC", "b",
          "619.5", "Straße", date(1900, 1, 1), date(2024, 3, 5), datetime(2024, 3, 5),
          datetime(2024, 3, 5, 12, 30)]


@pytest.mark.parametrize("b", VALUES)
def test_comparer_is_compare_with_a_fixed_right_side(b):
    against = comparer(b)
    assert [against(a) for a in VALUES] == [compare(a, b) for a in VALUES]


def test_dates_and_datetimes_keep_their_own_serials():
    # the date serials are memoised: a date and the datetime at its midnight are distinct entries
    assert to_serial(date(2024, 3, 5)) == 45356 and to_serial(datetime(2024, 3, 5, 12)) == 45356.5
    assert to_serial(datetime(2024, 3, 5)) == 45356 and to_serial(date(1900, 2, 28)) == 59


def test_number_text_matches_excel():
    assert number_text(619.5) == "619.5"
    assert number_text(144.69999999999999) == "144.7"
    assert number_text(1071.0) == "1071"
    assert number_text(1e20) == "1E+20"
    assert number_text(-2.5e-7) == "-2.5E-07"
    assert as_text(True) == "TRUE" and as_text(None) == "" and as_text(date(2024, 1, 1)) == "45292"


def test_excel_error_is_validated():
    with pytest.raises(ValueError):
        ExcelError("#OOPS")
    assert str(ExcelError("#N/A")) == "#N/A"
    assert Table(["A"], [[1]]).n_cols == 1


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_string_a_value_pattern_matches_passes_the_plain_text_shortcut(data):
    """coerce_json_value returns text at once when its first character is not a sign, '.' or a
    decimal digit; that is only right while every string a number, percent or date pattern
    matches starts with one of those (unicode digits included, as the patterns' digit class reads them)."""
    from cf_rules import table as t
    pattern = data.draw(st.sampled_from([t._NUMBER, t._GROUPED, t._PERCENT, t._ISO_DATE, t._ISO_DATETIME]))
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    assert text[0] in "+-." or text[0].isdecimal()
    assert type(t.coerce_json_value("North " + text)) is str          # and text before it stays text


@pytest.mark.parametrize("digits", [310, 400])
def test_a_json_integer_past_float_range_is_a_table_error(digits):
    with pytest.raises(TableError, match=f"{digits}-digit integer"):
        table_from_json([["V"], [10 ** (digits - 1)]])


def test_digit_strings_past_float_range_stay_text():
    long_digits = "9" * 5000                      # past Python's 4300-digit int conversion limit too
    t = table_from_json([["V"], ["1" * 310], [long_digits], ["1" * 300]])
    assert t.rows[0][0] == "1" * 310 and t.rows[1][0] == long_digits
    assert t.rows[2][0] == int("1" * 300)
