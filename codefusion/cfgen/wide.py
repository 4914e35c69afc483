"""The wide generator: requests in many styles and languages over tables like real sheets.

    build_wide_triple(rng, split) -> triple dict (the shape generator.build_triple returns, plus
    "format": "cells" | "rows", "lang" and "style")

Every rule names its column (`c[i]`), because every table has several columns; `format` records
which cells the wording asks to paint (the tested column's cells or whole rows), the rule is the
same for both. Literals are what the table compares: a number stored as text ("12,400") is a
number, a percent on a percent column is written `75%` (the executor compares the fraction 0.75).
A triple is kept only when its rule parses, is canonical, and formats some but not all rows.
"""
from __future__ import annotations

import random
import re

from cf_rules.executor import execute
from cf_rules.parser import parse
from cf_rules.printer import to_canonical
from cf_rules.table import table_from_json

from . import phrasing as P
from . import wording as W
from .draws import Draw, _nice, _text_literal
from .sheets import SHEETS_BY_LANG, Field, Sheet

LETTERS = "ABCDEFGHIJ"
# kind -> weight; "family" decides the column type and the rule shape
WIDE_KINDS = {
    "GreaterThan": 8, "LessThan": 7, "GreaterThanEqual": 3, "LessThanEqual": 3, "Equals": 1.5, "NotEquals": 1,
    "Between": 4, "NotBetween": 1.5,
    "TextEquals": 6, "TextContains": 4, "TextStartsWith": 1.5, "TextEndsWith": 1.5, "NotTextEquals": 3,
    "NotTextContains": 1,
    "top": 3.5, "bottom": 2.5, "topP": 1, "bottomP": 1, "aboveAverage": 2, "belowAverage": 2,
    "Duplicate": 3.5, "Unique": 1, "Blanks": 3, "NotBlanks": 1, "Errors": 2, "NotErrors": 0.5,
    "ColorScale": 1.5, "DataBar": 1.5, "IconSet": 1,
    "And": 6, "Or": 3, "AndNot": 2,
    "ColLess": 1.5, "ColLessEq": 1.5, "ColGreater": 1.5, "ColGreaterEq": 0.7,
    "LenGreater": 1, "LenLess": 0.3, "AbsGreater": 0.5,
    "Vague": 3, "Alias": 2,
}
NUMBER_KINDS = {"GreaterThan", "LessThan", "GreaterThanEqual", "LessThanEqual", "Equals", "NotEquals", "Between",
                "NotBetween", "top", "bottom", "topP", "bottomP", "aboveAverage", "belowAverage",
                "ColorScale", "DataBar", "IconSet"}
TEXT_KINDS = {"TextEquals", "TextContains", "TextStartsWith", "TextEndsWith", "NotTextEquals", "NotTextContains"}
STATE_KINDS = {"Blanks", "NotBlanks", "Errors", "NotErrors"}
LANG_SHARE = {"en": 0.84, "de": 0.04, "fr": 0.04, "es": 0.04, "zh": 0.04}
ICON_WORDS = (("traffic lights", "3TrafficLights1"), ("arrows", "3Arrows"), ("flags", "3Flags"),
              ("icons", ""), ("an icon set", ""), ("star ratings", "5Rating"))


class Req:
    """The parts picked for one request; literals sit in «slots» until the end (no typos inside)."""

    def __init__(self, rng: random.Random, split: str):
        self.rng, self.pieces = rng, P.Pieces(rng, split)
        self.want_held = split == "novel"
        self.literals: dict[str, str] = {}

    def pick(self, items):
        items = tuple(items)
        held = self.want_held and self.rng.random() < 0.5
        return self.pieces.pick(items, holdable=True, want_held=held)

    def slot(self, name: str, surface: str) -> str:
        self.literals[name] = surface
        return "«" + name + "»"

    def finish(self, text: str, lang: str) -> str:
        rng = self.rng
        text = re.sub(r"\s+", " ", text).strip()
        text = re.sub(r"\s+([,.?!])", r"\1", text)
        if lang == "en" and rng.random() < 0.12:
            text = P.add_noise(text, rng, typo_rate=0.15)
        if rng.random() < 0.55:
            text = text[:1].upper() + text[1:]
        elif lang == "en" and rng.random() < 0.3:
            text = text.lower()
        for name, surface in self.literals.items():
            text = text.replace("«" + name + "»", surface)
        return text


# ---------------------------------------------------------------------------------------------
# tables

def make_sheet_table(rng: random.Random, sheet: Sheet):
    """(json rows, fields): 3-8 columns in the sheet's order, cells as an export would hold them."""
    pool = sheet.fields
    k = rng.randint(3, min(8, len(pool)))
    chosen = sorted(rng.sample(range(len(pool)), k))
    fields = [pool[i] for i in chosen]
    headers, seen = [], set()
    for f in fields:
        name = rng.choice(f.headers)
        if name.lower() in seen:
            name = next((h for h in f.headers if h.lower() not in seen), name + " 2")
        seen.add(name.lower())
        headers.append(name)
    n_rows = rng.randint(8, 24)
    text_numbers = rng.random() < 0.3
    percent_text = rng.random() < 0.6
    blank_rate = rng.choice((0.0, 0.0, 0.03, 0.06))
    rows = [headers]
    for _ in range(n_rows):
        row = []
        for f in fields:
            v = f.make(rng)
            if f.kind == "number":
                if f.unit == "percent":
                    v = f"{round(v * 100)}%" if percent_text else v
                elif text_numbers and isinstance(v, int) and abs(v) >= 1000:
                    v = f"{v:,}"
            if blank_rate and not f.identifier and rng.random() < blank_rate:
                v = ""
            row.append(v)
        rows.append(row)
    if rng.random() < 0.15:
        numeric = [i for i, f in enumerate(fields) if f.kind == "number"]
        if numeric:
            col = rng.choice(numeric)
            for r in rng.sample(range(1, len(rows)), k=min(2, n_rows)):
                rows[r][col] = rng.choice(("#N/A", "#DIV/0!"))
    return rows, fields


def decorate_headers(rng, rows, used: set[int]) -> None:
    """Sheets as found: now and then an empty or repeated header cell on a column the rule does not test."""
    free = [i for i in range(len(rows[0])) if i not in used]
    if free and rng.random() < 0.07:
        rows[0][rng.choice(free)] = ""
    elif len(free) >= 2 and rng.random() < 0.05:
        a, b = rng.sample(free, 2)
        rows[0][b] = rows[0][a]


def _numbers(rows, col) -> list[float]:
    table = table_from_json(rows)
    return [v for v in table.column(col) if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _texts(rows, col) -> list[str]:
    return [v for v in (r[col] for r in rows[1:]) if isinstance(v, str) and v.strip() and not v.startswith("#")]


# ---------------------------------------------------------------------------------------------
# literals

def _plain(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def number_literal(rng, f: Field, header: str, value: float, lang: str) -> tuple[str, str]:
    """(request surface, rule literal) of a threshold: separators, units, k, words, percents."""
    if f.unit == "percent":
        pct = _plain(round(value * 100, 1))
        if lang == "en" and rng.random() < 0.25:
            return f"{pct} percent", f"{pct}%"
        return f"{pct}%", f"{pct}%"
    plain = _plain(value)
    if lang != "en":
        return plain, plain
    r = rng.random()
    whole = float(value).is_integer()
    if whole and abs(value) >= 1000 and r < 0.35:
        surface = f"{int(value):,}"
    elif whole and abs(value) >= 1000 and int(value) % 1000 == 0 and r < 0.55:
        surface = f"{int(value) // 1000}k" if rng.random() < 0.7 else f"{int(value) // 1000} thousand"
    elif whole and int(value) in W.NUMBER_WORDS_EN and r < 0.2:
        surface = W.NUMBER_WORDS_EN[int(value)]
    else:
        surface = plain
    if f.unit == "money" and value >= 0 and surface[0].isdigit() and rng.random() < 0.35:
        surface = ("$" if "€" not in header and "£" not in header else "") + surface
    unit = re.search(r"\((km|kg|min|mm|h|wks|days|t/ha|ha)\)", header)
    if unit and surface[0].isdigit() and rng.random() < 0.4:
        surface = f"{surface} {unit.group(1)}"
    elif f.unit == "days" and surface[0].isdigit() and rng.random() < 0.4:
        surface = f"{surface} days"
    return surface, plain


def threshold(rng, numbers, lo=0.15, hi=0.85) -> float:
    ordered = sorted(numbers)
    a, b = int(lo * (len(ordered) - 1)), int(hi * (len(ordered) - 1))
    return _nice(ordered[rng.randint(a, max(a, b))], rng)


def rule_text(text: str) -> str:
    if re.fullmatch(r"[^(),\"'\s][^(),\"]*", text) and text == text.strip():
        return text
    return '"' + text.replace('"', '""') + '"'


def text_surface(rng, text: str) -> str:
    r = rng.random()
    if r < 0.15:
        return f'"{text}"'
    if r < 0.22:
        return f"'{text}'"
    if r < 0.3 and text.isascii():
        return text.lower()
    return text


def column_words(rng, f: Field, header: str) -> str:
    r = rng.random()
    bare = re.sub(r"\s*\([^)]*\)", "", header).strip(" ?.#") or header
    if r < 0.45 or not f.words:
        return header if r < 0.3 else bare
    if r < 0.6:
        return bare.lower()
    return rng.choice(f.words)


# ---------------------------------------------------------------------------------------------
# conditions: (rule text, fill values for the phrase, phrase kind)

def _column_of(rng, fields, rows, want: str, used=()) -> int:
    options = [i for i, f in enumerate(fields) if f.kind == want and i not in used]
    if want == "text":
        options = [i for i in options if not fields[i].free_text]
    if not options:
        raise Draw(f"no {want} column")
    return rng.choice(options)


def condition(rng, req: Req, kind: str, rows, fields, lang: str, used=(), tag: str = "a"):
    """One leaf condition: (rule, phrase key, fills, tested columns)."""
    if kind in NUMBER_KINDS or kind in ("Vague",):
        col = _column_of(rng, fields, rows, "number", used)
        numbers = _numbers(rows, col)
        if len(numbers) < 5:
            raise Draw("too few numbers")
        f, header = fields[col], rows[0][col]
        if kind in ("Between", "NotBetween"):
            (s1, r1), (s2, r2) = (number_literal(rng, f, header, threshold(rng, numbers, lo, hi), lang)
                                  for lo, hi in ((0.05, 0.45), (0.55, 0.95)))
            if float(r1.rstrip("%")) >= float(r2.rstrip("%")):
                raise Draw("empty interval")
            return (f"{kind}(c[{col}], {r1}, {r2})", kind,
                    {"a": req.slot(tag, s1), "b": req.slot(tag + "2", s2)}, [col])
        if kind in ("top", "bottom"):
            n = rng.choice((2, 3, 3, 5, 5, 10))
            if n >= len(numbers) - 1:
                n = 3
            surface = W.NUMBER_WORDS_EN[n] if lang == "en" and rng.random() < 0.25 else str(n)
            return f"{kind}(c[{col}], {n})", kind, {"n": req.slot(tag, surface)}, [col]
        if kind in ("topP", "bottomP"):
            p = rng.choice((5, 10, 10, 20, 25, 30))
            return f"{kind[:-1]}(c[{col}], {p}%)", kind, {"p": req.slot(tag, str(p))}, [col]
        if kind in ("aboveAverage", "belowAverage"):
            return f"{kind}(c[{col}])", kind, {}, [col]
        if kind in ("ColorScale", "DataBar", "IconSet"):
            return kind, kind, {}, [col]
        if kind in ("Equals", "NotEquals"):
            value = rng.choice(numbers)
        else:
            value = threshold(rng, numbers)
        surface, literal = number_literal(rng, f, header, value, lang)
        return f"{kind}(c[{col}], {literal})", kind, {"a": req.slot(tag, surface)}, [col]
    if kind in TEXT_KINDS:
        col = _column_of(rng, fields, rows, "text", used)
        if kind in ("TextEquals", "NotTextEquals") and not fields[col].categorical:
            cats = [i for i, f in enumerate(fields) if f.kind == "text" and f.categorical and i not in used]
            col = rng.choice(cats) if cats else col
        values = _texts(rows, col)
        how = {"TextEquals": "equals", "NotTextEquals": "equals", "TextContains": "contains",
               "NotTextContains": "contains", "TextStartsWith": "starts", "TextEndsWith": "ends"}[kind]
        text = _text_literal(rng, values, how)
        inner = {"NotTextEquals": "TextEquals", "NotTextContains": "TextContains"}.get(kind, kind)
        rule = f"{inner}(c[{col}], {rule_text(text)})"
        if kind.startswith("Not"):
            rule = f"NOT({rule})"
        return rule, kind, {"a": req.slot(tag, text_surface(rng, text))}, [col]
    if kind in ("Duplicate", "Unique"):
        options = [i for i, f in enumerate(fields) if (f.identifier or f.categorical) and i not in used]
        if not options:
            raise Draw("no column for duplicates")
        col = rng.choice(options)
        if kind == "Duplicate" and rng.random() < 0.8:
            a, b = rng.sample(range(1, len(rows)), 2)
            rows[b][col] = rows[a][col]
        return f"{kind}(c[{col}])", kind, {}, [col]
    if kind in STATE_KINDS:
        options = [i for i, f in enumerate(fields) if i not in used and not f.identifier]
        if not options:
            raise Draw("no column for a state rule")
        col = rng.choice(options)
        for r in rng.sample(range(1, len(rows)), k=rng.randint(1, 3)):
            rows[r][col] = "" if "Blanks" in kind else rng.choice(("#N/A", "#DIV/0!", "#VALUE!"))
        base = "Blanks" if "Blanks" in kind else "Errors"
        rule = f"{base}(c[{col}])" if not kind.startswith("Not") else f"NOT({base}(c[{col}]))"
        return rule, kind, {}, [col]
    raise ValueError(kind)


def formula_condition(rng, req: Req, kind: str, rows, fields, lang: str):
    if kind.startswith(("ColLess", "ColGreater")):
        numeric = [i for i, f in enumerate(fields) if f.kind == "number" and f.unit != "percent"]
        same_unit = [(i, j) for i in numeric for j in numeric if i != j and fields[i].unit == fields[j].unit]
        if not same_unit:
            raise Draw("no two comparable columns")
        i, j = rng.choice(same_unit)
        op = {"ColLess": "<", "ColLessEq": "<=", "ColGreater": ">", "ColGreaterEq": ">="}[kind]
        return f"=${LETTERS[i]}2{op}${LETTERS[j]}2", kind, {"col2": column_words(rng, fields[j], rows[0][j])}, [i, j]
    if kind in ("LenGreater", "LenLess"):
        options = [i for i, f in enumerate(fields) if f.kind == "text" and (f.free_text or not f.categorical)]
        if not options:
            raise Draw("no free-text column")
        col = rng.choice(options)
        lengths = sorted(len(t) for t in _texts(rows, col))
        if len(lengths) < 4:
            raise Draw("too few texts")
        n = max(2, int(_nice(lengths[rng.randint(len(lengths) // 4, 3 * len(lengths) // 4)], rng)))
        op = ">" if kind == "LenGreater" else "<"
        return f"=LEN(${LETTERS[col]}2){op}{n}", kind, {"a": req.slot("a", str(n))}, [col]
    numeric = [i for i, f in enumerate(fields) if f.kind == "number" and any(v < 0 for v in _numbers(rows, i))]
    if not numeric:
        raise Draw("no signed column")
    col = rng.choice(numeric)
    mags = sorted(abs(v) for v in _numbers(rows, col))
    a = _plain(_nice(mags[len(mags) // 2], rng))
    return f"=ABS(${LETTERS[col]}2)>{a}", kind, {"a": req.slot("a", a)}, [col]
