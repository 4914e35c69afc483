"""A1 addresses: the sheet's limits, column letters, cells and rectangular ranges.

    parse_cell("$B$7")            -> (7, 2)                      (row, col), 1-based
    parse_range("d20:a1")         -> CellRange(1, 1, 4, 20)       corners in any order, $ allowed
    split_sheet("'Q1 data'!C5")   -> ("Q1 data", "C5")

Every function raises `A1Error` (a ValueError with a hint) for text that is not an address or
that lies outside Excel's grid; callers turn it into their own error kind (a TableError, a
WorkbookError) so the message reaches the person in the words of their request.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_ROWS = 1_048_576       # Excel's last row
MAX_COLS = 16_384          # column XFD

_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_WHOLE_LINES = re.compile(r"\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}|\$?[0-9]{1,7}:\$?[0-9]{1,7}")
_SHEET = re.compile(r"^(?:'((?:[^']|'')+)'|([^!']+))!(.*)$", re.S)
OUTSIDE_HINT = f"Excel sheets end at column XFD and row {MAX_ROWS}"


class A1Error(ValueError):
    """Text that is not an A1 address, or one outside the sheet (`outside` tells which)."""

    def __init__(self, message: str, hint: str, *, outside: bool = False, unbounded: bool = False):
        super().__init__(message)
        self.message, self.hint, self.outside, self.unbounded = message, hint, outside, unbounded


@lru_cache(maxsize=None)     # at most 16,384 columns; every executed cell's address asks for one
def column_letter(index: int) -> str:
    """1 -> 'A', 28 -> 'AB', 16384 -> 'XFD'."""
    if not 1 <= index <= MAX_COLS:
        raise A1Error(f"column {index} is outside the sheet", OUTSIDE_HINT, outside=True)
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """'A' -> 1, 'xfd' -> 16384; the index may lie past XFD (callers check the grid)."""
    index = 0
    for letter in letters.upper():
        if not "A" <= letter <= "Z":
            raise A1Error(f"{letters!r} is not a column", "columns are letters, A to XFD")
        index = index * 26 + ord(letter) - ord("A") + 1
    return index


def in_grid(row: int, col: int) -> bool:
    return 1 <= row <= MAX_ROWS and 1 <= col <= MAX_COLS


def parse_cell(text: str) -> tuple[int, int]:
    """(row, col) of 'B7' or '$B$7'."""
    match = _CELL.fullmatch(str(text).strip())
    if not match:
        raise A1Error(f"{text!r} is not a cell", "write a cell like B7")
    row, col = int(match.group(2)), column_index(match.group(1))
    if not in_grid(row, col):
        raise A1Error(f"{text!r} is outside the sheet", OUTSIDE_HINT, outside=True)
    return row, col


@dataclass(frozen=True)
class CellRange:
    """A rectangular A1 range, 1-based inclusive bounds."""
    min_col: int
    min_row: int
    max_col: int
    max_row: int

    @property
    def top_left(self) -> str:
        return f"{column_letter(self.min_col)}{self.min_row}"

    @property
    def sqref(self) -> str:
        last = f"{column_letter(self.max_col)}{self.max_row}"
        return self.top_left if last == self.top_left else f"{self.top_left}:{last}"

    @property
    def absolute(self) -> str:
        return (f"${column_letter(self.min_col)}${self.min_row}:"
                f"${column_letter(self.max_col)}${self.max_row}")

    @property
    def width(self) -> int:
        return self.max_col - self.min_col + 1

    @property
    def height(self) -> int:
        return self.max_row - self.min_row + 1

    @property
    def cells(self) -> int:
        return self.width * self.height


def parse_range(text: str) -> CellRange:
    """'A1:D20' or 'B7' (optional $, corners in any order) -> CellRange."""
    cleaned = str(text).strip()
    if _WHOLE_LINES.fullmatch(cleaned):
        raise A1Error(f"{text!r} is a whole row or column, not a bounded range",
                      "give both corners, e.g. A1:D20", unbounded=True)
    parts = cleaned.split(":")
    if not 1 <= len(parts) <= 2 or not all(_CELL.fullmatch(p.strip()) for p in parts):
        raise A1Error(f"{text!r} is not a cell range", "write a range like A1:D20 (or a single cell like B7)")
    try:
        (r1, c1), (r2, c2) = parse_cell(parts[0]), parse_cell(parts[-1])
    except A1Error as err:
        raise A1Error(f"{text!r} is outside the sheet", err.hint, outside=True) from None
    return CellRange(min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2))


def split_sheet(address: str) -> tuple[str | None, str]:
    """('Sheet1', 'C5:F20') from "Sheet1!C5:F20" or "'My sheet'!C5:F20"; (None, text) without a sheet."""
    match = _SHEET.match(str(address).strip())
    if not match:
        return None, str(address).strip()
    quoted, bare, rest = match.groups()
    return (quoted.replace("''", "'") if quoted is not None else bare), rest
