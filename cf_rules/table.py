"""Tables that rules run on: a header row plus data rows, placed somewhere on a sheet.

A `Table` is what the executor sees. It comes from JSON (`table_from_json`, what the task pane
and the benchmark send) or from an openpyxl worksheet (`table_from_sheet`, `load_table`).

Cell values after loading are one of:

    int | float          numbers
    str                  text (never empty: '' becomes None)
    None                 a blank cell
    bool                 TRUE / FALSE
    datetime | date      dates (the executor turns them into Excel serial numbers)
    ExcelError           '#N/A', '#DIV/0!', '#VALUE!', '#REF!', '#NAME?', '#NUM!', '#NULL!'

Where values come from decides their type:

* JSON tables read values the way the task pane gets them from Office.js `range.values`, where a
  number is a number even when the benchmark stored it as the string '619.5'. So a JSON string
  that Excel itself would read as a number when typed (`619.5`, `-1e3`, `1,234`, `33.07%`) becomes
  a number, an ISO date (`2024-03-05`, `2024-03-05T10:30`) becomes a date, and a string that is
  exactly an Excel error code becomes an `ExcelError`. Everything else stays text.
* Sheets keep the stored type: a number typed into an xlsx cell as text stays text, because that
  is what Excel's own rules see (`load_table` reads cached values with `data_only=True`).
"""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from openpyxl.utils.datetime import to_excel

from . import a1
from .errors import TableError

ERROR_CODES = ("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!")

# A sheet range larger than this is refused: previews need a sample, not a whole database.
MAX_CELLS = 250_000


@dataclass(frozen=True)
class ExcelError:
    """An Excel error value such as #N/A. Errors never equal anything, including each other."""
    code: str

    def __post_init__(self):
        if self.code not in ERROR_CODES:
            raise ValueError(f"unknown Excel error {self.code!r}; known: {', '.join(ERROR_CODES)}")

    def __str__(self):
        return self.code


@dataclass
class Table:
    """A header row and data rows. `origin` is the 1-based (row, col) of the header's first cell,
    so the first data cell is at (origin_row + 1, origin_col)."""
    header: list[str]
    rows: list[list] = field(default_factory=list)
    origin: tuple[int, int] = (1, 1)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return len(self.header)

    def value(self, row: int, col: int):
        """The value of data row `row`, table column `col` (both 0-based)."""
        return self.rows[row][col]

    def column(self, col: int) -> list:
        return [r[col] for r in self.rows]

    def address(self, row: int, col: int) -> str:
        """A1 address of data row `row`, table column `col` (both 0-based)."""
        return f"{a1.column_letter(self.origin[1] + col)}{self.origin[0] + 1 + row}"

    def sheet_position(self, row: int, col: int) -> tuple[int, int]:
        """1-based sheet (row, col) of a data cell."""
        return self.origin[0] + 1 + row, self.origin[1] + col

    def data_range(self) -> str:
        """A1 range of the data cells (header excluded), e.g. 'A2:B11'; '' when there are none."""
        if not self.rows or not self.header:
            return ""
        return f"{self.address(0, 0)}:{self.address(self.n_rows - 1, self.n_cols - 1)}"


# --- JSON -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")          # 1,234.5
_PERCENT = re.compile(r"([+-]?(\d+\.?\d*|\.\d+))\s?%")           # 33.07%
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def _number(text: str):
    # more than 309 digits is past float range: float() gives inf (then text) where int() would
    # build a number no comparison can take, or refuse past Python's 4300-digit limit
    if re.fullmatch(r"[+-]?\d+", text) and len(text) <= 309:
        return int(text)
    return float(text)


_INFINITIES = (float("inf"), float("-inf"))
MAX_EXCEL_NUMBER = 1.7976931348623157e308   # the largest double; Excel itself stops near 9.99E+307


def coerce_json_value(value, where="cell"):
    """A JSON cell value as a table value (see the module docstring for the rules). `where` names the
    cell in error messages: a string, or (row, column) to be spelled only when there is an error."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (value != value or value in _INFINITIES):
            raise TableError(f"{_cell_name(where)} holds {value!r}, which is not an Excel number",
                             hint="use a finite number, text or null for a blank cell")
        if isinstance(value, int) and abs(value) > MAX_EXCEL_NUMBER:
            # a JSON integer has no size limit; past float range every comparison would overflow
            digits = len(str(abs(value))) if abs(value) < 10 ** 4000 else "thousands of"
            raise TableError(f"{_cell_name(where)} holds a {digits}-digit integer, larger than any Excel number",
                             hint="Excel numbers stay below 1E+308; send it as text if it is an identifier")
        return value
    if isinstance(value, str):
        text = value.strip()
        if value == "":
            return None
        if value in ERROR_CODES:
            return ExcelError(value)
        if not text or not (text[0] in "+-." or text[0].isdecimal()):
            return value     # plain text, most text cells: every pattern below starts with a sign, '.' or a digit
        if _NUMBER.fullmatch(text):
            number = _number(text)
            return value if number in _INFINITIES else number  # 1e400: text
        if _GROUPED.fullmatch(text):
            number = _number(text.replace(",", ""))
            return value if number in _INFINITIES else number
        match = _PERCENT.fullmatch(text)
        if match:
            return float(match.group(1)) / 100
        if _ISO_DATE.fullmatch(text) or _ISO_DATETIME.fullmatch(text):
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                return value  # looks like a date but is not one (2024-13-45): keep the text
            return parsed.date() if len(text) == 10 else parsed
        return value
    raise TableError(f"{_cell_name(where)} holds a {type(value).__name__} ({json.dumps(value)[:40]}), "
                     "but a cell must be a number, text, true/false or null",
                     hint="flatten nested lists/objects into plain cell values")


def _cell_name(where) -> str:
    return f"row {where[0]}, column {where[1]}" if isinstance(where, tuple) else where


def table_from_json(obj) -> Table:
    """A table from `[[header...], [row...], ...]`, placed with its header in row 1 (origin A1).

    Rows shorter than the header are padded with blanks; longer rows are an error."""
    if not isinstance(obj, list) or not obj:
        raise TableError("a table must be a non-empty list of rows: [[header...], [row...], ...]",
                         hint='for example [["Name", "Sales"], ["Ann", 120], ["Bob", 80]]')
    for i, row in enumerate(obj):
        if not isinstance(row, list):
            raise TableError(f"row {i} of the table is a {type(row).__name__}, not a list of cells",
                             hint="every row, the header included, must be a JSON list")
    header = obj[0]
    if not header:
        raise TableError("the header row (row 0) is empty", hint="give each column a name")
    for j, name in enumerate(header):
        if not isinstance(name, str):
            raise TableError(f"header cell {j} is {json.dumps(name)}, not text",
                             hint="header cells must be strings, e.g. \"Sales\"")
    rows = []
    for i, row in enumerate(obj[1:], start=1):
        if len(row) > len(header):
            raise TableError(f"row {i} has {len(row)} cells but the header has {len(header)}",
                             hint="add a header name for every column, or drop the extra cells")
        cells = [coerce_json_value(v, (i, j)) for j, v in enumerate(row)]
        rows.append(cells + [None] * (len(header) - len(cells)))
    return Table(list(header), rows, (1, 1))


# --- sheets ---------------------------------------------------------------------------------

def _sheet_value(cell):
    """A worksheet cell's value with its stored type kept."""
    value = cell.value
    if getattr(cell, "data_type", None) == "e" and value in ERROR_CODES:
        return ExcelError(value)
    if value == "":
        return None
    if isinstance(value, (int, float, str, bool, datetime, date)) or value is None:
        return value
    return str(value)  # times and durations: shown as text rather than guessed at


def table_from_sheet(ws, cell_range: str | None = None) -> Table:
    """A table from an openpyxl worksheet range such as 'A1:D20' (first row = header).

    Without a range the sheet's used range is read."""
    used = _used_range(ws)
    if cell_range is None:
        if used is None:
            raise TableError(f"sheet {ws.title!r} is empty", hint="choose a sheet that holds a table")
        cell_range = used
    try:
        rng = a1.parse_range(cell_range)
    except a1.A1Error as err:
        if err.unbounded:
            raise TableError(f"{cell_range!r} is a whole row or column, not a bounded range",
                             hint=f"give both corners, e.g. {used or 'A1:D20'}") from None
        raise TableError(f"{cell_range!r} is not a cell range" + (" on the sheet" if err.outside else ""),
                         hint=f"write it like A1:D20; the used range of {ws.title!r} is {used or 'empty'}") from None
    min_col, min_row, max_col, max_row = rng.min_col, rng.min_row, rng.max_col, rng.max_row
    cells = rng.cells
    if cells > MAX_CELLS:
        raise TableError(f"range {cell_range} has {cells} cells; at most {MAX_CELLS} are read",
                         hint=f"choose a smaller range (the used range of {ws.title!r} is {used})")
    grid = [[_sheet_value(c) for c in row] for row in
            ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col)]
    width = max_col - min_col + 1
    grid += [[None] * width for _ in range(max_row - min_row + 1 - len(grid))]
    grid = [row + [None] * (width - len(row)) for row in grid]  # read-only sheets may trim rows
    header = ["" if v is None else str(v) for v in grid[0]]
    return Table(header, [list(r) for r in grid[1:]], (min_row, min_col))


def _used_range(ws) -> str | None:
    max_row, max_col = ws.max_row or 0, ws.max_column or 0
    if max_row < 1 or max_col < 1:
        return None
    min_row, min_col = getattr(ws, "min_row", 1) or 1, getattr(ws, "min_column", 1) or 1
    return f"{a1.column_letter(min_col)}{min_row}:{a1.column_letter(max_col)}{max_row}"


def load_table(path, sheet: str | None = None, range: str | None = None) -> Table:  # noqa: A002
    """A table from a .json file (`[[header...], ...]`) or an .xlsx/.xlsm workbook (read-only,
    cached values). `sheet` defaults to the active sheet, `range` to its used range.

    A workbook first passes workbook_safety.check_workbook (its WorkbookError is raised as is)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise TableError(f"table file {str(path)!r} does not exist", hint="check the path")
    if suffix == ".json":
        if sheet is not None or range is not None:
            raise TableError("--sheet and --range only apply to workbooks (.xlsx)",
                             hint="a JSON table is always placed with its header at A1")
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise TableError(f"{path.name} is not valid JSON: {e}",
                             hint='write the table as [["Header", ...], [value, ...], ...]')
        return table_from_json(obj)
    if suffix in (".xlsx", ".xlsm"):
        return _load_workbook_table(path, sheet, range)
    raise TableError(f"cannot read tables from {suffix or 'files without an extension'}",
                     hint="use a .json table or an .xlsx workbook")


def _load_workbook_table(path: Path, sheet: str | None, cell_range: str | None) -> Table:
    import io

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    from .excel.safety import check_workbook

    data = path.read_bytes()
    check_workbook(data)   # WorkbookError for zip bombs, XML entities, encrypted or non-xlsx files
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise TableError(f"{path.name} cannot be read as an xlsx workbook: {e}",
                         hint="save it from Excel as .xlsx (not .xls, .csv or password-protected)")
    try:
        if sheet is None:
            ws = wb.active if wb.active is not None else wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise TableError(f"{path.name} has no sheet {sheet!r}",
                             hint="sheets: " + ", ".join(repr(s) for s in wb.sheetnames))
        if not hasattr(ws, "iter_rows"):
            raise TableError(f"sheet {ws.title!r} is a chart sheet, not a worksheet",
                             hint="sheets: " + ", ".join(repr(s) for s in wb.sheetnames))
        if cell_range is None and hasattr(ws, "reset_dimensions") and ws.max_row is None:
            ws.calculate_dimension(force=True)
        return table_from_sheet(ws, cell_range)
    finally:
        wb.close()


# --- Excel value semantics shared by the executor and the formula evaluator -----------------

def is_error(value) -> bool:
    return isinstance(value, ExcelError)


def is_number(value) -> bool:
    """Numbers and dates (a date is a serial number to Excel); booleans are not numbers."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or isinstance(value, (date, datetime))


def is_text(value) -> bool:
    return isinstance(value, str)


def to_serial(value) -> float:
    """Excel's serial number for a date/datetime (1900 date system), numbers unchanged."""
    if isinstance(value, date):   # datetime is a date too
        return _date_serial(value)
    return value


# Memoised: a request previews tens of rules on one table, each converting the same date column.
# typed=True keeps a date and a datetime in separate entries.
@lru_cache(maxsize=32_768, typed=True)
def _date_serial(value: date) -> float:
    return to_excel(value)


def number_text(number: float) -> str:
    """A number as Excel turns it into text (`=A1&""`, SEARCH, LEFT): up to 15 significant digits,
    no trailing zeros, `1E+20` style exponents for very large or small magnitudes."""
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa.upper()}E{sign}{int(exponent.lstrip('+-')):02d}"
    return text


def as_text(value) -> str:
    """Excel's text form of a value (blank -> '', TRUE/FALSE, dates as serial numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if is_number(value):
        return number_text(to_serial(value))
    return str(value)


_TYPE_RANK = {"number": 0, "text": 1, "bool": 2}


def _typed(value):
    # exact types first: they are nearly every cell, and rules compare every cell of the range
    # (bool is a subclass of int, so it never passes `kind is int`)
    kind = type(value)
    if kind is int or kind is float:
        return "number", float(value)
    if kind is str:
        return "text", value.casefold()
    if kind is date or kind is datetime:
        return "number", float(_date_serial(value))
    if isinstance(value, bool):
        return "bool", value
    if is_number(value):
        return "number", float(to_serial(value))
    return "text", value.casefold()


def compare(a, b) -> int:
    """Excel's comparison of two cell values: -1, 0 or 1.

    Numbers < text < logicals whatever the values (so "abc" > 1E+300); text compares without
    case; a blank takes the zero of the other side's type (0, "" or FALSE). Callers handle
    errors first: comparing an error gives that error in Excel."""
    if a is None and b is None:
        return 0
    if a is None:
        return -compare(b, a)
    if b is None:
        b = False if isinstance(a, bool) else ("" if isinstance(a, str) else 0)
    (ta, va), (tb, vb) = _typed(a), _typed(b)
    if ta != tb:
        return -1 if _TYPE_RANK[ta] < _TYPE_RANK[tb] else 1
    return (va > vb) - (va < vb)


def comparer(b):
    """`lambda a: compare(a, b)` for many cells against one value (a rule's literal): `b` is
    typed once instead of once per cell. Callers handle errors first, as for `compare`."""
    if b is None:
        return lambda a: compare(a, None)
    blank = compare(None, b)
    tb, vb = _typed(b)
    rank_b = _TYPE_RANK[tb]

    def compare_to_b(a) -> int:
        if a is None:
            return blank
        ta, va = _typed(a)
        if ta != tb:
            return -1 if _TYPE_RANK[ta] < rank_b else 1
        return (va > vb) - (va < vb)
    return compare_to_b
