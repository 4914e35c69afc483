"""Excel's values inside formulas: error values, coercions, range grids and COUNTIF criteria.

The formula evaluator (`cf_rules.formula`) walks the parse tree; everything here is about the
values it passes around and follows Excel's rules:

  to_number     blank 0, TRUE 1, numeric text its number ("1,234", "50%"), else #VALUE!
  to_logical    numbers non-zero, "TRUE"/"FALSE" text, else #VALUE!
  Grid          the cells of a range reference: the cells inside the table plus a count of the
                blank cells outside it, so a range as large as the sheet costs what the table costs
  countif_test  COUNTIF's criteria (5, ">5", "<>x", "a*", "") as a predicate on a cell value
"""
from __future__ import annotations

import bisect
import math
import re
from functools import lru_cache

from .table import ExcelError, coerce_json_value, compare, is_error, is_number, to_serial

VALUE_ERROR = ExcelError("#VALUE!")
DIV0 = ExcelError("#DIV/0!")
REF_ERROR = ExcelError("#REF!")
NUM_ERROR = ExcelError("#NUM!")


class Raised(Exception):
    """Carries an Excel error value up through nested evaluation."""
    def __init__(self, error: ExcelError):
        self.error = error


class Grid:
    """The cells of a range reference: `rows` holds the values of the part inside the table,
    `blanks` counts the cells of the range outside it (they read as blank, and no function but
    COUNTIF sees a blank inside a range, so they are counted rather than listed)."""
    def __init__(self, rows: list[list], blanks: int = 0):
        self.rows = rows
        self.blanks = blanks
        self._equal_counts = None
        self._sorted = None

    def values(self):
        """The values inside the table (the blanks outside it are left out)."""
        return [v for row in self.rows for v in row]

    def count_matching(self, test) -> int:
        """How many cells of the whole range satisfy `test`, the blanks outside the table included."""
        inside = sum(1 for v in self.values() if test(v))
        return inside + (self.blanks if self.blanks and test(None) else 0)

    def equal_counts(self) -> dict:
        """How many cells COUNTIF's "=" criteria match, per `cell_equality_keys`, built once per range
        so that COUNTIF($A$2:$A$1000, A2) is not quadratic."""
        if self._equal_counts is None:
            counts: dict = {}
            for v in self.values():
                for key in cell_equality_keys(v):
                    counts[key] = counts.get(key, 0) + 1
            if self.blanks:
                counts[("blank",)] = counts.get(("blank",), 0) + self.blanks
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




class Wildcard:
    """An Excel wildcard pattern (`*` any run, `?` one character, `~*` `~?` `~~` literal) matched
    without backtracking: the pieces between the stars are placed one after another, each at its
    first place, which finds a match whenever there is one. A regex with one `.*` per star would
    take exponential time on "a*a*a*a*b" against a long run of a's."""

    def __init__(self, pattern: str):
        pieces, piece, i = [], [], 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
                piece.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            if ch == "*":
                pieces.append(piece)
                piece = []
            else:
                piece.append("." if ch == "?" else re.escape(ch))
            i += 1
        pieces.append(piece)
        self.pieces = [re.compile("".join(p), re.IGNORECASE | re.DOTALL) for p in pieces]
        self.last_length = len(pieces[-1])        # each piece matches a fixed number of characters

    def search(self, text: str, pos: int = 0) -> "_Found | None":
        """Where the leftmost match starts at or after `pos` (`.start()`), or None."""
        first = self.pieces[0].search(text, pos)
        if first is None:
            return None
        at = first.end()
        for piece in self.pieces[1:]:
            found = piece.search(text, at)
            if found is None:
                return None      # a later start of the first piece leaves less room, so no match at all
            at = found.end()
        return _Found(first.start())

    def fullmatch(self, text: str) -> bool | None:
        """True when the whole text matches, else None (like re's fullmatch, for `is not None`)."""
        if len(self.pieces) == 1:
            return True if self.pieces[0].fullmatch(text) else None
        head = self.pieces[0].match(text)
        if head is None:
            return None
        at = head.end()
        for piece in self.pieces[1:-1]:
            found = piece.search(text, at)
            if found is None:
                return None
            at = found.end()
        tail_start = len(text) - self.last_length
        if tail_start < at or self.pieces[-1].fullmatch(text, tail_start) is None:
            return None
        return True


class _Found:
    def __init__(self, start: int):
        self._start = start

    def start(self) -> int:
        return self._start


@lru_cache(maxsize=1024)   # SEARCH and COUNTIF ask for the same pattern again for every cell
def wildcard_regex(pattern: str) -> Wildcard:
    """Excel's SEARCH/COUNTIF pattern as a `Wildcard` (search and fullmatch, like a compiled regex)."""
    return Wildcard(pattern)


@lru_cache(maxsize=1024)   # FIND: the same needle for every cell
def literal_regex(text: str) -> re.Pattern:
    return re.compile(re.escape(text))



def cell_equality_keys(value) -> list:
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
    number = numeric_text(value)
    if number is not None:
        keys.append(("number", number))
    return keys


def criterion_equality_key(criterion):
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
    number = numeric_text(text)
    return ("number", number) if number is not None else ("text", text.casefold())


def ordered_criterion(criterion):
    """(op, target) for "<5", ">=abc" style criteria with a number or text target, else None."""
    if not isinstance(criterion, str):
        return None
    op, operand = _CRITERION.fullmatch(criterion).groups()
    if op not in ("<", "<=", ">", ">=") or operand.upper() in ("TRUE", "FALSE"):
        return None
    number = numeric_text(operand)
    return op, (number if number is not None else operand)


# --- value coercions ------------------------------------------------------------------------

def numeric_text(text) -> float | None:
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
        raise Raised(value)
    number = numeric_text(value)
    if number is None:
        raise Raised(VALUE_ERROR)
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
    raise Raised(value if is_error(value) else VALUE_ERROR)


def power(a: float, b: float) -> float:
    if a == 0 and b <= 0:
        raise Raised(DIV0 if b < 0 else NUM_ERROR)
    try:
        result = a ** b
    except (OverflowError, ZeroDivisionError):
        raise Raised(NUM_ERROR)
    if isinstance(result, complex) or math.isinf(result):
        raise Raised(NUM_ERROR)
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
    number = numeric_text(operand)
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
    number = numeric_text(value)
    return number is not None and is_number(target) and number == float(to_serial(target))

