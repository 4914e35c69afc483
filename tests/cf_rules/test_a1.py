"""A1 addresses: the sheet's limits, columns, cells, ranges and sheet prefixes."""
import pytest

from cf_rules import a1


@pytest.mark.parametrize("index, letters", [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (703, "AAA"),
                                            (a1.MAX_COLS, "XFD")])
def test_column_letters_and_indexes_are_inverse(index, letters):
    assert a1.column_letter(index) == letters
    assert a1.column_index(letters) == index
    assert a1.column_index(letters.lower()) == index


def test_columns_past_xfd_are_outside():
    with pytest.raises(a1.A1Error) as info:
        a1.column_letter(a1.MAX_COLS + 1)
    assert info.value.outside
    assert a1.column_index("XFE") == a1.MAX_COLS + 1 and not a1.in_grid(1, a1.column_index("XFE"))


def test_cells():
    assert a1.parse_cell("B7") == (7, 2)
    assert a1.parse_cell(" $b$7 ") == (7, 2)
    assert a1.parse_cell("XFD1048576") == (a1.MAX_ROWS, a1.MAX_COLS)
    for bad, outside in [("A0", True), ("XFE1", True), ("A1048577", True), ("7B", False), ("", False)]:
        with pytest.raises(a1.A1Error) as info:
            a1.parse_cell(bad)
        assert info.value.outside == outside, bad
        assert info.value.hint


def test_ranges_normalise_their_corners():
    rng = a1.parse_range("d20:a1")
    assert (rng.min_col, rng.min_row, rng.max_col, rng.max_row) == (1, 1, 4, 20)
    assert rng.sqref == "A1:D20" and rng.top_left == "A1" and rng.absolute == "$A$1:$D$20"
    assert (rng.width, rng.height, rng.cells) == (4, 20, 80)
    assert a1.parse_range("$B$2:$C$9").sqref == "B2:C9"
    assert a1.parse_range("C5").sqref == "C5"


@pytest.mark.parametrize("text, outside, unbounded", [
    ("A0:B2", True, False), ("A1:XFE2", True, False), ("B2:B1048577", True, False),
    ("A:A", False, True), ("3:7", False, True), ("not a range", False, False),
    ("Summary!A1:A3", False, False), ("A1:B2:C3", False, False), ("ZZZZ1:ZZZZ9", False, False),
])
def test_bad_ranges_say_why(text, outside, unbounded):
    with pytest.raises(a1.A1Error) as info:
        a1.parse_range(text)
    assert (info.value.outside, info.value.unbounded) == (outside, unbounded)
    assert repr(text) in info.value.message


@pytest.mark.parametrize("address, sheet, rest", [
    ("Sheet1!C5:F20", "Sheet1", "C5:F20"), ("'Q1 data'!C5", "Q1 data", "C5"), ("'it''s'!A1", "it's", "A1"),
    ("C5:F20", None, "C5:F20"),
])
def test_sheet_prefixes(address, sheet, rest):
    assert a1.split_sheet(address) == (sheet, rest)
