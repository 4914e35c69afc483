"""The subset of Excel formulas that formula rules (`=...`) may use, evaluated per cell.

    formula_matches(text, table, columns, today=...) -> [(row, col), ...]   cells it formats
    evaluate_formula(text, table, at=(sheet_row, sheet_col), anchor=..., today=...) -> value

How a formula rule applies, as in Excel: the formula is written for the top-left cell of the
range (the first data row, first selected column) and Excel "copies" it to every other cell, so
a relative reference (`A2`) moves with the cell and an anchored one (`$A$2`, or the anchored
half of `$A2` / `A$2`) does not. The cell is formatted when the result is TRUE or a non-zero
number; text, FALSE, 0 and errors do not format. A reference outside the table reads as a blank
cell; one that would move above row 1 or left of column A is #REF!. The header row is part of
the sheet, so a reference to it reads the header text.

Supported (the list is `SUPPORTED_FUNCTIONS`):
  operators   + - * / ^ & = <> < <= > >=, unary -, postfix %; ranges A2:B10 inside functions
  logic       AND OR NOT IF
  tests       ISBLANK ISNUMBER ISTEXT ISERROR
  text        LEN LEFT RIGHT MID UPPER LOWER TRIM SEARCH FIND EXACT VALUE
  math        ABS ROUND MOD SUM AVERAGE MIN MAX COUNT COUNTIF
  dates       TODAY
Anything else raises UnsupportedRuleError naming the function. Values follow Excel: blanks are
0 in arithmetic and "" in text, text that looks like a number is one in arithmetic ("5"+1 = 6)
but not for ISNUMBER, comparisons order numbers < text < TRUE/FALSE and ignore case, SUM and
friends skip text and logicals inside ranges, errors propagate. A range where one value is
needed (`=A2:A5>1`, Excel's implicit intersection) is #VALUE!. COUNTIF criteria: a value or
"=x" matches equal cells (text without case, `*`/`?`/`~` wildcards; a number also matches
numbers stored as text, as Excel's COUNTIF does and LibreOffice's does not), "<5" ">=b" compare
numbers with numbers and text with text, "" / "=" match blanks, "<>x" is the complement.
tests/rules/test_libreoffice_diff.py checks rules of this subset against LibreOffice Calc.

Why our own evaluator rather than a library. We looked at the two maintained Python Excel
formula engines:
* `formulas` 1.3.4 (pip) needs schedula, numpy-financial, scipy and numpy (~16 MB of wheels
  beyond numpy/scipy); compiling a formula took 0.9 s the first time. Compiled formulas fed
  plain values do not give Excel's cell semantics: ISNUMBER("600") came back TRUE and a blank
  (None) input gave #VALUE! for =A2+1, so we would still have to model cells through its
  workbook layer and rewrite references per cell ourselves.
* `pycel` 1.0b30 (pip) compiles an openpyxl workbook's cells into generated Python source and
  evaluates it; it needs networkx, numpy and ruamel.yaml, and per-cell rule evaluation would
  mean writing every shifted formula into a workbook first.
Both are built to recalculate workbooks, not to evaluate one short rule over a few hundred
cells with shifting references. The rule grammar already parses formulas (parser.parse_formula,
a Lark tree), so a tree walker over the functions rules actually use is a few hundred lines,
needs no new dependency, evaluates nothing but the grammar's nodes (no eval of generated code),
and lets us pin Excel's semantics in tests.
"""
from __future__ import annotations

import bisect
import math
import re
from datetime import date
from functools import lru_cache

from lark import Tree

from .errors import UnsupportedRuleError
from .table import (ExcelError, Table, as_text, coerce_json_value, compare, is_error,
                    is_number, to_serial)

SUPPORTED_FUNCTIONS = (
    "AND", "OR", "NOT", "IF", "ISBLANK", "ISNUMBER", "ISTEXT", "ISERROR", "LEN", "LEFT",
    "RIGHT", "MID", "UPPER", "LOWER", "TRIM", "ABS", "ROUND", "SUM", "AVERAGE", "MIN", "MAX",
    "COUNT", "COUNTIF", "TODAY", "MOD", "SEARCH", "FIND", "EXACT", "VALUE")

# (min args, max args or None for any)
_ARITY = {
    "AND": (1, None), "OR": (1, None), "NOT": (1, 1), "IF": (2, 3), "ISBLANK": (1, 1),
    "ISNUMBER": (1, 1), "ISTEXT": (1, 1), "ISERROR": (1, 1), "LEN": (1, 1), "LEFT": (1, 2),
    "RIGHT": (1, 2), "MID": (3, 3), "UPPER": (1, 1), "LOWER": (1, 1), "TRIM": (1, 1),
    "ABS": (1, 1), "ROUND": (2, 2), "SUM": (1, None), "AVERAGE": (1, None), "MIN": (1, None),
    "MAX": (1, None), "COUNT": (1, None), "COUNTIF": (2, 2), "TODAY": (0, 0), "MOD": (2, 2),
    "SEARCH": (2, 3), "FIND": (2, 3), "EXACT": (2, 2), "VALUE": (1, 1),
}

VALUE_ERROR = ExcelError("#VALUE!")
DIV0 = ExcelError("#DIV/0!")
REF_ERROR = ExcelError("#REF!")
NUM_ERROR = ExcelError("#NUM!")


class _Raise(Exception):
    """Carries an Excel error value up through nested evaluation."""
    def __init__(self, error: ExcelError):
        self.error = error


class Grid:
    """A rectangular block of cell values from a range reference."""
    def __init__(self, rows: list[list]):
        self.rows = rows
        self._equal_counts = None
        self._sorted = None

    def values(self):
        return [v for row in self.rows for v in row]

    def equal_counts(self) -> dict:
        """How many cells COUNTIF's "=" criteria match, per `_equality_key`, built once per range
        so that COUNTIF($A$2:$A$1000, A2) is not quadratic."""
        if self._equal_counts is None:
            counts: dict = {}
            for v in self.values():
                for key in _cell_equality_keys(v):
                    counts[key] = counts.get(key, 0) + 1
            self._equal_counts = counts
        return self._equal_counts

    def count_ordered(self, op: str, target) -> int:
        """COUNTIF with "<", "<=", ">" or ">=" and a number or text target, by bisection over
        the range's sorted numbers or sorted (case-folded) texts."""
        if self._sorted is None:
            values = self.values()
            self._sorted = {
                "number": sorted(float(to_serial(v)) for v in values if is_number(v)),
                "text": sorted(v.casefold() for v in values if isinstance(v, str)),
            }
        if isinstance(target, str):
            items, key = self._sorted["text"], target.casefold()
        else:
            items, key = self._sorted["number"], float(to_serial(target))
        below, upto = bisect.bisect_left(items, key), bisect.bisect_right(items, key)
        return {"<": below, "<=": upto, ">": len(items) - upto, ">=": len(items) - below}[op]


# --- parsing and checking -------------------------------------------------------------------

def parse_formula_tree(text: str) -> Tree:
    """The tree of a formula (with or without the leading '='), shaped as parser.py documents."""
    from .parser import parse_formula
    return parse_formula(text)


def check_functions(tree: Tree) -> None:
    """UnsupportedRuleError for a function outside the subset or a wrong argument count."""
    for node in tree.iter_subtrees():
        if node.data != "call":
            continue
        name, args = node.children[0], node.children[1:]
        if name not in _ARITY:
            raise UnsupportedRuleError(
                f"the formula uses {name}(), which rule previews do not support",
                hint="supported functions: " + ", ".join(SUPPORTED_FUNCTIONS))
        low, high = _ARITY[name]
        if len(args) < low or (high is not None and len(args) > high):
            want = f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            raise UnsupportedRuleError(f"{name}() takes {want} arguments, got {len(args)}",
                                       hint=f"check the commas in {name}(...)")


# --- applying a formula rule ----------------------------------------------------------------

def formula_matches(text: str, table: Table, columns: list[int], *, today: date) -> list[tuple[int, int]]:
    """Data cells (row, col), row-major, that the formula rule formats on the range made of
    `columns` (table columns, 0-based) over all data rows."""
    tree = parse_formula_tree(text)
    check_functions(tree)
    if not table.rows or not columns:
        return []
    anchor = table.sheet_position(0, columns[0])
    context = _Context(table, today, tree)
    hits = []
    for r in range(table.n_rows):
        for c in columns:
            value = context.run(tree, anchor, table.sheet_position(r, c))
            if _formats(value):
                hits.append((r, c))
    return hits


def evaluate_formula(text: str, table: Table, at: tuple[int, int], *, anchor: tuple[int, int] | None = None,
                     today: date | None = None):
    """The value of a formula written for `anchor` (default: `at`) evaluated at sheet cell `at`
    (1-based row, col). Errors come back as ExcelError values, not exceptions."""
    tree = parse_formula_tree(text)
    check_functions(tree)
    return _Context(table, today or date.today(), tree).run(tree, anchor or at, at)


def _formats(value) -> bool:
    if isinstance(value, bool):
        return value
    return is_number(value) and value != 0


class _Context:
    """Evaluates one formula tree against one table, cell after cell. Remembers range reads and
    the values of subtrees with only anchored references (AVERAGE($B$2:$B$900)), so a rule over
    n cells costs O(n) rather than O(n^2) in the common cases."""

    def __init__(self, table: Table, today: date, tree: Tree):
        self.table = table
        self.today = today
        self.grids: dict = {}
        self.shift = (0, 0)
        self.constants: dict = {}     # id(node) -> value, for subtrees with only $A$1 references
        self.constant_ids = _constant_subtrees(tree)

    def run(self, tree: Tree, anchor, at):
        self.shift = (at[0] - anchor[0], at[1] - anchor[1])
        try:
            value = self.scalar(tree)
        except _Raise as e:
            return e.error
        return value

    # -- references --

    def _position(self, cell: Tree) -> tuple[int, int]:
        col, row, col_fixed, row_fixed = cell.children
        if not row_fixed:
            row += self.shift[0]
        if not col_fixed:
            col += self.shift[1]
        if row < 1 or col < 1:
            raise _Raise(REF_ERROR)
        return row, col

    def read(self, row: int, col: int):
        origin_row, origin_col = self.table.origin
        c = col - origin_col
        if not 0 <= c < self.table.n_cols:
            return None
        if row == origin_row:
            return self.table.header[c] or None
        r = row - origin_row - 1
        if not 0 <= r < self.table.n_rows:
            return None
        value = self.table.rows[r][c]
        return to_serial(value) if is_number(value) else value

    def grid(self, first: Tree, last: Tree) -> Grid:
        (r1, c1), (r2, c2) = self._position(first), self._position(last)
        key = (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))
        if key not in self.grids:
            top, left, bottom, right = key
            self.grids[key] = Grid([[self.read(r, c) for c in range(left, right + 1)]
                                    for r in range(top, bottom + 1)])
        return self.grids[key]

    # -- evaluation --

    def value(self, node):
        """A node's value: a scalar, a Grid for ranges, or _Raise for errors."""
        if id(node) in self.constant_ids and node.data in ("call", "binop"):
            if id(node) not in self.constants:
                try:
                    self.constants[id(node)] = self._value(node)
                except _Raise as e:
                    self.constants[id(node)] = e
            cached = self.constants[id(node)]
            if isinstance(cached, _Raise):
                raise cached
            return cached
        return self._value(node)

    def _value(self, node):
        kind = node.data
        if kind in ("number", "string", "bool"):
            return node.children[0]
        if kind == "error":
            raise _Raise(ExcelError(node.children[0]))
        if kind == "cell":
            return self.read(*self._position(node))
        if kind == "range":
            return self.grid(*node.children)
        if kind == "neg":
            return -self.number(node.children[0])
        if kind == "pos":
            return self.value(node.children[0])
        if kind == "percent":
            return self.number(node.children[0]) / 100
        if kind == "binop":
            return self.binop(node)
        if kind == "call":
            return self.call(node)
        raise UnsupportedRuleError(f"formula element {kind!r} is not supported")

    def scalar(self, node):
        value = self.value(node)
        if isinstance(value, Grid):
            raise _Raise(VALUE_ERROR)   # implicit intersection is not modelled
        if is_error(value):
            raise _Raise(value)
        return value

    def number(self, node) -> float:
        return to_number(self.scalar(node))

    def text(self, node) -> str:
        return as_text(self.scalar(node))

    def binop(self, node):
        left, op, right = node.children
        if op in ("+", "-", "*", "/", "^"):
            a, b = self.number(left), self.number(right)
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                if b == 0:
                    raise _Raise(DIV0)
                return a / b
            return _power(a, b)
        if op == "&":
            return self.text(left) + self.text(right)
        a, b = self.scalar(left), self.scalar(right)
        order = compare(a, b)
        return {"=": order == 0, "<>": order != 0, "<": order < 0, "<=": order <= 0,
                ">": order > 0, ">=": order >= 0}[op]

    def call(self, node):
        name, *args = node.children
        return getattr(self, "fn_" + name)(*args)

    # -- functions (each takes parse nodes, so IF can skip the branch it does not take) --

    def logicals(self, args) -> list[bool]:
        out = []
        for arg in args:
            value = self.value(arg)
            if isinstance(value, Grid):
                for v in value.values():
                    if is_error(v):
                        raise _Raise(v)
                    if isinstance(v, bool) or is_number(v):
                        out.append(bool(v))
            elif is_error(value):
                raise _Raise(value)
            elif value is not None:
                out.append(to_logical(value))
        if not out:
            raise _Raise(VALUE_ERROR)
        return out

    def fn_AND(self, *args):
        return all(self.logicals(args))

    def fn_OR(self, *args):
        return any(self.logicals(args))

    def fn_NOT(self, arg):
        return not to_logical(self.scalar(arg))

    def fn_IF(self, test, yes, no=None):
        if to_logical(self.scalar(test)):
            return self.value(yes)
        return False if no is None else self.value(no)

    def _test(self, arg):
        try:
            value = self.value(arg)
        except _Raise as e:
            return e.error
        return VALUE_ERROR if isinstance(value, Grid) else value

    def fn_ISBLANK(self, arg):
        return self._test(arg) is None

    def fn_ISNUMBER(self, arg):
        value = self._test(arg)
        return is_number(value)

    def fn_ISTEXT(self, arg):
        return isinstance(self._test(arg), str)

    def fn_ISERROR(self, arg):
        return is_error(self._test(arg))

    def fn_LEN(self, arg):
        return float(len(self.text(arg)))

    def fn_LEFT(self, arg, count=None):
        n = self._count(count)
        return self.text(arg)[:n]

    def fn_RIGHT(self, arg, count=None):
        n = self._count(count)
        text = self.text(arg)
        return text[len(text) - n:] if n else ""

    def fn_MID(self, arg, start, count):
        text, s, n = self.text(arg), math.floor(self.number(start)), math.floor(self.number(count))
        if s < 1 or n < 0:
            raise _Raise(VALUE_ERROR)
        return text[s - 1:s - 1 + n]

    def _count(self, node) -> int:
        if node is None:
            return 1
        n = math.floor(self.number(node))
        if n < 0:
            raise _Raise(VALUE_ERROR)
        return n

    def fn_UPPER(self, arg):
        return self.text(arg).upper()

    def fn_LOWER(self, arg):
        return self.text(arg).lower()

    def fn_TRIM(self, arg):
        return re.sub(" +", " ", self.text(arg).strip(" "))

    def fn_ABS(self, arg):
        return abs(self.number(arg))

    def fn_ROUND(self, arg, digits):
        return excel_round(self.number(arg), math.trunc(self.number(digits)))

    def fn_MOD(self, a, b):
        x, y = self.number(a), self.number(b)
        if y == 0:
            raise _Raise(DIV0)
        return x - y * math.floor(x / y)

    def numbers(self, args) -> list[float]:
        """Numbers for SUM/AVERAGE/MIN/MAX: in ranges only numbers count; a direct argument may
        also be a logical or numeric text; errors propagate."""
        out = []
        for arg in args:
            value = self.value(arg)
            if isinstance(value, Grid):
                for v in value.values():
                    if is_error(v):
                        raise _Raise(v)
                    if is_number(v):
                        out.append(float(v))
            elif is_error(value):
                raise _Raise(value)
            elif value is not None:
                out.append(to_number(value))
        return out

    def fn_SUM(self, *args):
        return math.fsum(self.numbers(args))

    def fn_AVERAGE(self, *args):
        values = self.numbers(args)
        if not values:
            raise _Raise(DIV0)
        return math.fsum(values) / len(values)

    def fn_MIN(self, *args):
        values = self.numbers(args)
        return min(values) if values else 0.0

    def fn_MAX(self, *args):
        values = self.numbers(args)
        return max(values) if values else 0.0

    def fn_COUNT(self, *args):
        count = 0
        for arg in args:
            try:
                value = self.value(arg)
            except _Raise:
                continue
            if isinstance(value, Grid):
                count += sum(1 for v in value.values() if is_number(v))
            elif is_number(value) or isinstance(value, bool) or _numeric_text(value) is not None:
                count += 1
        return float(count)

    def fn_COUNTIF(self, cells, criteria):
        grid = Grid([[self.value(cells)]]) if cells.data == "cell" else self.value(cells)
        if not isinstance(grid, Grid):
            raise _Raise(VALUE_ERROR)
        criterion = self.scalar(criteria)
        key = _criterion_equality_key(criterion)
        if key is not None:
            return float(grid.equal_counts().get(key, 0))
        ordered = _ordered_criterion(criterion)
        if ordered is not None:
            return float(grid.count_ordered(*ordered))
        test = countif_test(criterion)
        return float(sum(1 for v in grid.values() if test(v)))

    def fn_TODAY(self):
        return float(to_serial(self.today))

    def fn_SEARCH(self, find, within, start=None):
        return self._find(wildcard_regex(self.text(find)), within, start)

    def fn_FIND(self, find, within, start=None):
        return self._find(_literal_regex(self.text(find)), within, start)

    def _find(self, pattern, within, start):
        text = self.text(within)
        s = 1 if start is None else math.floor(self.number(start))
        if s < 1 or s > len(text) + 1:
            raise _Raise(VALUE_ERROR)
        match = pattern.search(text, s - 1)
        if match is None:
            raise _Raise(VALUE_ERROR)
        return float(match.start() + 1)

    def fn_EXACT(self, a, b):
        return self.text(a) == self.text(b)

    def fn_VALUE(self, arg):
        value = self.scalar(arg)
        if isinstance(value, str):
            number = _numeric_text(value)
            if number is None:
                raise _Raise(VALUE_ERROR)
            return number
        if isinstance(value, bool):
            raise _Raise(VALUE_ERROR)
        return to_number(value)


@lru_cache(maxsize=1024)   # SEARCH and COUNTIF ask for the same pattern again for every cell
def wildcard_regex(pattern: str) -> re.Pattern:
    """Excel's SEARCH pattern: `*` any run, `?` one character, `~*` `~?` `~~` literal."""
    parts, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=1024)   # FIND: the same needle for every cell
def _literal_regex(text: str) -> re.Pattern:
    return re.compile(re.escape(text))


def _constant_subtrees(tree: Tree) -> set:
    """ids of subtrees whose value is the same for every cell: no relative reference inside.
    (TODAY() is fixed for a run, so it counts as constant.)"""
    constant = set()

    def visit(node) -> bool:
        if not isinstance(node, Tree):
            return True
        if node.data == "cell":
            col, row, col_fixed, row_fixed = node.children
            ok = col_fixed and row_fixed
        else:
            ok = all([visit(child) for child in node.children])
        if ok:
            constant.add(id(node))
        return ok

    visit(tree)
    return constant


def _cell_equality_keys(value) -> list:
    """Keys under which COUNTIF's plain "=" criteria match a cell (see countif_test)."""
    if value is None:
        return [("blank",)]
    if is_error(value):
        return []
    if isinstance(value, bool):
        return [("bool", value)]
    if is_number(value):
        return [("number", float(to_serial(value)))]
    keys = [("text", value.casefold())]
    number = _numeric_text(value)
    if number is not None:
        keys.append(("number", number))
    return keys


def _criterion_equality_key(criterion):
    """The equality key of a criterion that means "equal to this value" without wildcards
    (5, TRUE, "apple", "=apple", "5"), or None for anything else (">5", "a*", "", "<>x")."""
    if isinstance(criterion, bool):
        return ("bool", criterion)
    if is_number(criterion):
        return ("number", float(to_serial(criterion)))
    if criterion is None or criterion == "" or criterion == "=":
        return ("blank",)
    if is_error(criterion):
        return None
    text = str(criterion)
    if text.startswith("="):
        text = text[1:]
    elif text[:1] in ("<", ">"):
        return None
    if text == "" or any(ch in text for ch in "*?~"):
        return None
    if text.upper() in ("TRUE", "FALSE"):
        return ("bool", text.upper() == "TRUE")
    number = _numeric_text(text)
    return ("number", number) if number is not None else ("text", text.casefold())


def _ordered_criterion(criterion):
    """(op, target) for "<5", ">=abc" style criteria with a number or text target, else None."""
    if not isinstance(criterion, str):
        return None
    op, operand = _CRITERION.fullmatch(criterion).groups()
    if op not in ("<", "<=", ">", ">=") or operand.upper() in ("TRUE", "FALSE"):
        return None
    number = _numeric_text(operand)
    return op, (number if number is not None else operand)


# --- value coercions ------------------------------------------------------------------------

def _numeric_text(text) -> float | None:
    """The number a text spells the way Excel reads typed input ('1,234', '50%', '2024-01-31'),
    or None."""
    if not isinstance(text, str):
        return None
    value = coerce_json_value(text.strip() or text)
    if is_number(value):
        return float(to_serial(value))
    return None


def to_number(value) -> float:
    """Excel's coercion for arithmetic: blank 0, TRUE 1, numeric text its number, else #VALUE!."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if is_number(value):
        return float(to_serial(value))
    if is_error(value):
        raise _Raise(value)
    number = _numeric_text(value)
    if number is None:
        raise _Raise(VALUE_ERROR)
    return number


def to_logical(value) -> bool:
    """Excel's coercion to TRUE/FALSE: numbers non-zero, "TRUE"/"FALSE" text, else #VALUE!."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if is_number(value):
        return float(to_serial(value)) != 0
    if isinstance(value, str) and value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    raise _Raise(value if is_error(value) else VALUE_ERROR)


def _power(a: float, b: float) -> float:
    if a == 0 and b <= 0:
        raise _Raise(DIV0 if b < 0 else NUM_ERROR)
    try:
        result = a ** b
    except (OverflowError, ZeroDivisionError):
        raise _Raise(NUM_ERROR)
    if isinstance(result, complex) or math.isinf(result):
        raise _Raise(NUM_ERROR)
    return result


def excel_round(x: float, digits: int) -> float:
    """ROUND: halves away from zero, on the decimal value Excel shows (15 significant digits)."""
    from decimal import ROUND_HALF_UP, Decimal, localcontext
    if digits > 15 or x == 0:
        return x
    with localcontext() as ctx:
        ctx.prec = 400
        exact = Decimal(f"{x:.15g}")
        step = Decimal(1).scaleb(-max(digits, -330))
        return float(exact.quantize(step, rounding=ROUND_HALF_UP))


_CRITERION = re.compile(r"(<=|>=|<>|<|>|=)?(.*)", re.DOTALL)


def countif_test(criteria):
    """COUNTIF's criteria as a predicate on a cell value: 5, ">5", "<>x", "a*", "" (blanks)."""
    if is_number(criteria) or isinstance(criteria, bool):
        target = criteria
        return lambda v: _countif_equal(v, target)
    if criteria is None:
        criteria = ""
    op, operand = _CRITERION.fullmatch(str(criteria)).groups()
    op = op or "="
    number = _numeric_text(operand)
    if operand.upper() in ("TRUE", "FALSE"):
        target = operand.upper() == "TRUE"
    elif number is not None:
        target = number
    else:
        target = operand
    if op in ("=", "<>"):
        if target == "":
            match = (lambda v: v is None) if op == "=" else (lambda v: v is not None)
            return match
        if isinstance(target, str) and any(ch in target for ch in "*?~"):
            pattern = wildcard_regex(target)
            equal = lambda v: isinstance(v, str) and pattern.fullmatch(v) is not None  # noqa: E731
        elif isinstance(target, str):
            folded = target.casefold()
            equal = lambda v: isinstance(v, str) and v.casefold() == folded  # noqa: E731
        else:
            equal = lambda v: _countif_equal(v, target)  # noqa: E731
        return equal if op == "=" else (lambda v: not equal(v))
    # ordering criteria compare only like with like: numbers with numbers (not numeric text),
    # text with text, logicals with logicals
    def ordered(v):
        if v is None or is_error(v):
            return False
        same_kind = (is_number(v) and is_number(target)) or (isinstance(v, bool) and isinstance(target, bool)) \
            or (isinstance(v, str) and isinstance(target, str))
        if not same_kind:
            return False
        order = compare(v, target)
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]
    return ordered


def _countif_equal(value, target) -> bool:
    if value is None or is_error(value):
        return False
    if isinstance(target, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(target, bool) and value == target
    if is_number(value):
        return compare(value, target) == 0 if is_number(target) else False
    number = _numeric_text(value)
    return number is not None and is_number(target) and number == float(to_serial(target))
