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
tests/cf_rules/test_libreoffice_diff.py checks rules of this subset against LibreOffice Calc.
The values themselves (coercions, errors, range grids, COUNTIF criteria) are `formula_values.py`.

Budgets: a range reads only its intersection with the table (a range as large as the sheet,
`$A$1:$XFD$1048576`, costs what the table costs: the cells outside are counted as blanks); the
cells read over all cells of one rule are capped at MAX_CELL_READS (FormulaTooCostly, a 422);
nesting is capped at Excel's 64 levels, and chains of operators are folded in a loop; wildcard
patterns (SEARCH, COUNTIF) are matched in one pass (formula_values.Wildcard), never by a backtracking regex.

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

import math
import re
from datetime import date

from lark import Tree

from .errors import UnsupportedRuleError
from .formula_values import (DIV0, REF_ERROR, VALUE_ERROR, Grid, Raised, countif_test,  # noqa: F401
                             criterion_equality_key, excel_round, literal_regex, numeric_text,
                             ordered_criterion, power, to_logical, to_number, wildcard_regex)
from .table import ExcelError, Table, as_text, compare, is_error, is_number, to_serial

# Work one formula rule may do on one table: cells read from the table by its range references
# (a range's part outside the table costs nothing), summed over every cell the rule is tried on.
# ~2 s of evaluation; COUNTIF($A$2:$A$20001, A2) over 20,000 rows reads its range once.
MAX_CELL_READS = 10_000_000
# Excel's own limit on nested functions; a deeper formula would also exhaust Python's stack.
MAX_NESTING = 64
MAX_TEXT = 32_767          # characters in a cell's text: a longer & result is #VALUE! in Excel

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


class FormulaTooCostly(UnsupportedRuleError):
    """The rule would read more cells than MAX_CELL_READS on this table."""
    code = "formula_too_costly"


def parse_formula_tree(text: str) -> Tree:
    """The tree of a formula (with or without the leading '='), shaped as parser.py documents."""
    from .parser import parse_formula
    return parse_formula(text)


def check_functions(tree: Tree) -> None:
    """UnsupportedRuleError for a function outside the subset, a wrong argument count or a
    formula nested deeper than Excel allows (a flat chain such as A2+A2+...+A2 is not nesting)."""
    if nesting(tree) > MAX_NESTING:
        raise UnsupportedRuleError(f"the formula nests more than {MAX_NESTING} levels deep",
                                   hint="Excel allows 64 levels of nested functions and parentheses; "
                                        "split the test into simpler parts")
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


def nesting(tree: Tree) -> int:
    """How deep the evaluator recurses: one level per call argument, operand of a unary operator
    and right operand, none for the left operand (a chain of binary operators is evaluated in a loop)."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Tree):
            continue
        deepest = max(deepest, depth)
        if node.data == "binop":
            stack.append((node.children[0], depth))
            stack.append((node.children[2], depth + 1))
        elif node.data in ("call", "neg", "pos", "percent"):
            stack.extend((child, depth + 1) for child in node.children)
    return deepest


def _formats(value) -> bool:
    if isinstance(value, bool):
        return value
    return is_number(value) and value != 0


class _Context:
    """Evaluates one formula tree against one table, cell after cell. Remembers range reads and
    the values of subtrees with only anchored references (AVERAGE($B$2:$B$900)), so a rule over
    n cells costs O(n) rather than O(n^2) in the common cases."""

    def __init__(self, table: Table, today: date, tree: Tree, budget: int | None = None):
        self.table = table
        self.today = today
        self.grids: dict = {}
        self.grid_cells = 0           # cells held by self.grids
        self.limit = MAX_CELL_READS if budget is None else budget
        self.budget = self.limit      # cell reads left
        self.shift = (0, 0)
        self.constants: dict = {}     # id(node) -> value, for subtrees with only $A$1 references
        self.constant_ids = _constant_subtrees(tree)

    def run(self, tree: Tree, anchor, at):
        self.shift = (at[0] - anchor[0], at[1] - anchor[1])
        try:
            value = self.scalar(tree)
        except Raised as e:
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
            raise Raised(REF_ERROR)
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
        """The range's cells: only its intersection with the table (header row included) is read;
        the rest of the range is counted as blanks."""
        (r1, c1), (r2, c2) = self._position(first), self._position(last)
        key = (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))
        cached = self.grids.get(key)
        if cached is not None:
            return cached
        top, left, bottom, right = key
        origin_row, origin_col = self.table.origin
        in_top, in_bottom = max(top, origin_row), min(bottom, origin_row + self.table.n_rows)
        in_left, in_right = max(left, origin_col), min(right, origin_col + self.table.n_cols - 1)
        height, width = max(0, in_bottom - in_top + 1), max(0, in_right - in_left + 1)
        inside = height * width if height and width else 0
        self.budget -= inside
        if self.budget < 0:
            raise FormulaTooCostly(
                f"the formula reads more than {self.limit:,} cells of the table in all",
                hint="anchor its ranges ($A$2:$A$100) so they are read once, or preview a smaller sample")
        rows = [[self.read(r, c) for c in range(in_left, in_right + 1)] for r in range(in_top, in_bottom + 1)] \
            if inside else []
        grid = Grid(rows, (bottom - top + 1) * (right - left + 1) - inside)
        if self.grid_cells + inside > self.limit // 10:   # moving ranges are rarely read twice
            self.grids.clear()
            self.grid_cells = 0
        self.grids[key] = grid
        self.grid_cells += inside
        return grid

    # -- evaluation --

    def value(self, node):
        """A node's value: a scalar, a Grid for ranges, or Raised for errors."""
        if id(node) in self.constant_ids and node.data in ("call", "binop"):
            if id(node) not in self.constants:
                try:
                    self.constants[id(node)] = self._value(node)
                except Raised as e:
                    self.constants[id(node)] = e
            cached = self.constants[id(node)]
            if isinstance(cached, Raised):
                raise cached
            return cached
        return self._value(node)

    def _value(self, node):
        kind = node.data
        if kind in ("number", "string", "bool"):
            return node.children[0]
        if kind == "error":
            raise Raised(ExcelError(node.children[0]))
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
        return self.as_scalar(self.value(node))

    @staticmethod
    def as_scalar(value):
        if isinstance(value, Grid):
            raise Raised(VALUE_ERROR)   # implicit intersection is not modelled
        if is_error(value):
            raise Raised(value)
        return value

    def number(self, node) -> float:
        return to_number(self.scalar(node))

    def text(self, node) -> str:
        return as_text(self.scalar(node))

    def binop(self, node):
        """A chain of binary operators (A2+A2+...+A2 is nested to the left) is folded in a loop,
        so a long flat formula does not recurse once per term."""
        chain = [node]
        while True:
            left = chain[-1].children[0]
            if not isinstance(left, Tree) or left.data != "binop":
                break
            chain.append(left)
        result = self.value(chain[-1].children[0])
        for link in reversed(chain):
            result = self.combine(result, link.children[1], link.children[2])
        return result

    def combine(self, left_value, op: str, right):
        """`left_value op right`: the left operand already evaluated, the right one a parse node."""
        a = self.as_scalar(left_value)
        if op in ("+", "-", "*", "/", "^"):
            a, b = to_number(a), self.number(right)
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                if b == 0:
                    raise Raised(DIV0)
                return a / b
            return power(a, b)
        if op == "&":
            joined = as_text(a) + self.text(right)
            if len(joined) > MAX_TEXT:     # Excel's #VALUE!; also keeps A2&A2&... from growing without bound
                raise Raised(VALUE_ERROR)
            return joined
        b = self.scalar(right)
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
                        raise Raised(v)
                    if isinstance(v, bool) or is_number(v):
                        out.append(bool(v))
            elif is_error(value):
                raise Raised(value)
            elif value is not None:
                out.append(to_logical(value))
        if not out:
            raise Raised(VALUE_ERROR)
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
        except Raised as e:
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
            raise Raised(VALUE_ERROR)
        return text[s - 1:s - 1 + n]

    def _count(self, node) -> int:
        if node is None:
            return 1
        n = math.floor(self.number(node))
        if n < 0:
            raise Raised(VALUE_ERROR)
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
            raise Raised(DIV0)
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
                        raise Raised(v)
                    if is_number(v):
                        out.append(float(v))
            elif is_error(value):
                raise Raised(value)
            elif value is not None:
                out.append(to_number(value))
        return out

    def fn_SUM(self, *args):
        return math.fsum(self.numbers(args))

    def fn_AVERAGE(self, *args):
        values = self.numbers(args)
        if not values:
            raise Raised(DIV0)
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
            except Raised:
                continue
            if isinstance(value, Grid):
                count += sum(1 for v in value.values() if is_number(v))
            elif is_number(value) or isinstance(value, bool) or numeric_text(value) is not None:
                count += 1
        return float(count)

    def fn_COUNTIF(self, cells, criteria):
        grid = Grid([[self.value(cells)]]) if cells.data == "cell" else self.value(cells)
        if not isinstance(grid, Grid):
            raise Raised(VALUE_ERROR)
        criterion = self.scalar(criteria)
        key = criterion_equality_key(criterion)
        if key is not None:
            return float(grid.equal_counts().get(key, 0))
        ordered = ordered_criterion(criterion)
        if ordered is not None:
            return float(grid.count_ordered(*ordered))
        return float(grid.count_matching(countif_test(criterion)))

    def fn_TODAY(self):
        return float(to_serial(self.today))

    def fn_SEARCH(self, find, within, start=None):
        return self._find(wildcard_regex(self.text(find)), within, start)

    def fn_FIND(self, find, within, start=None):
        return self._find(literal_regex(self.text(find)), within, start)

    def _find(self, pattern, within, start):
        text = self.text(within)
        s = 1 if start is None else math.floor(self.number(start))
        if s < 1 or s > len(text) + 1:
            raise Raised(VALUE_ERROR)
        match = pattern.search(text, s - 1)
        if match is None:
            raise Raised(VALUE_ERROR)
        return float(match.start() + 1)

    def fn_EXACT(self, a, b):
        return self.text(a) == self.text(b)

    def fn_VALUE(self, arg):
        value = self.scalar(arg)
        if isinstance(value, str):
            number = numeric_text(value)
            if number is None:
                raise Raised(VALUE_ERROR)
            return number
        if isinstance(value, bool):
            raise Raised(VALUE_ERROR)
        return to_number(value)


def _constant_subtrees(tree: Tree) -> set:
    """ids of subtrees whose value is the same for every cell: no relative reference inside.
    (TODAY() is fixed for a run, so it counts as constant.) Post-order without recursion: a flat
    chain of hundreds of terms is as deep as it is long."""
    constant, relative = set(), set()
    stack = [(tree, False)]
    while stack:
        node, children_done = stack.pop()
        if not isinstance(node, Tree):
            continue
        if node.data == "cell":
            col, row, col_fixed, row_fixed = node.children
            (constant if col_fixed and row_fixed else relative).add(id(node))
        elif children_done:
            subtrees = [child for child in node.children if isinstance(child, Tree)]
            (relative if any(id(child) in relative for child in subtrees) else constant).add(id(node))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in node.children)
    return constant
