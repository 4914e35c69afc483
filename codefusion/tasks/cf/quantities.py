"""The numbers, percents and dates a request states, as the values a rule compares.

    quantities("anyone earning under 45 grand")          -> [Quantity(45000, "number")]
    quantities("close before 1 April 2025")              -> [Quantity(45748, "date", span=(45748, 45748))]
    quantities("Feb 2025 entries")                       -> [Quantity(45689, "month", span=(45689, 45716))]
    quantities("bounce rate above 60%")                  -> [Quantity(60, "percent")]

Dates are Excel serial numbers (1900 date system), which is what a rule on a date column compares.
Day-first is read for `15/03/2025`; an ambiguous `03/04/2025` is read day-first as well (most of the
world's order), and a year alone is kept as a year (its span is the whole year).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from .literals import extract_literals, numeric_value

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS.update({"sept": 9, "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
                "juillet": 7, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
                "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
                "januar": 1, "februar": 2, "märz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12})
_MONTH = "(" + "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True)) + r")\.?"
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(\d{4})\b", re.I)
_MONTH_DAY_YEAR = re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I)
_MONTH_YEAR = re.compile(r"\b" + _MONTH + r"\s+(\d{4})\b", re.I)
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_YEAR = re.compile(r"(?<![\d,.$€£])\b(19\d\d|20\d\d)\b(?![\d,%]|\.\d)")

_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_TENS) + r")(?:[\s-](" + "|".join(_UNITS) + r"))?\b"
                          r"|\b(" + "|".join(_TEENS) + r"|a hundred|one hundred|a thousand)\b", re.I)
_GRAND = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:grand|g)\b", re.I)
_PERCENT_AFTER = re.compile(r"\s?(?:%|percent\b|per cent\b|pct\b)", re.I)
EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Quantity:
    value: float
    kind: str                        # number | percent | date | month | year
    text: str = ""
    low: float | None = None         # for month and year: the first and last day's serials
    high: float | None = None


def serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def quantities(request: str) -> list[Quantity]:
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []

    def add(match, quantity):
        if not any(a < match.end() and match.start() < b for a, b in taken):
            taken.append(match.span())
            found.append(quantity)

    for m in _DAY_MONTH_YEAR.finditer(request):
        _add_date(add, m, int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    for m in _MONTH_DAY_YEAR.finditer(request):
        _add_date(add, m, int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    for m in _ISO_DATE.finditer(request):
        _add_date(add, m, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    for m in _NUMERIC_DATE.finditer(request):
        day, month = int(m.group(1)), int(m.group(2))
        if month > 12 >= day:
            day, month = month, day
        _add_date(add, m, int(m.group(3)), month, day)
    for m in _MONTH_YEAR.finditer(request):
        year, month = int(m.group(2)), _MONTHS[m.group(1).lower()]
        last = calendar.monthrange(year, month)[1]
        add(m, Quantity(serial(date(year, month, 1)), "month", m.group(0),
                        serial(date(year, month, 1)), serial(date(year, month, last))))
    for m in _YEAR.finditer(request):
        year = int(m.group(1))
        add(m, Quantity(year, "year", m.group(0), serial(date(year, 1, 1)), serial(date(year, 12, 31))))
    for m in _GRAND.finditer(request):
        add(m, Quantity(float(m.group(1)) * 1000, "number", m.group(0)))
    for m in _WORD_NUMBER.finditer(request):
        if m.group(3):
            word = m.group(3).lower()
            value = _TEENS.get(word) or (1000 if "thousand" in word else 100)
        else:
            value = _TENS[m.group(1).lower()] + (_UNITS[m.group(2).lower()] if m.group(2) else 0)
        add(m, Quantity(value, "number", m.group(0)))
    for literal in extract_literals(request):
        if literal.kind != "NUM":
            continue
        number = numeric_value(literal.value)
        if number is None:
            continue
        span = _Span(literal.start, literal.end)
        percent = bool(_PERCENT_AFTER.match(request, literal.end)) or request[literal.start:literal.end].rstrip().endswith("%")
        add(span, Quantity(float(number), "percent" if percent else "number", request[literal.start:literal.end]))
    return found


class _Span:
    def __init__(self, start: int, end: int):
        self._span = (start, end)

    def start(self):
        return self._span[0]

    def end(self):
        return self._span[1]

    def span(self):
        return self._span


def _add_date(add, match, year: int, month: int, day: int) -> None:
    try:
        day_serial = serial(date(year, month, day))
    except ValueError:
        return
    add(match, Quantity(day_serial, "date", match.group(0), day_serial, day_serial))
