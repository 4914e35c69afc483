"""Synthetic (request, table, rule) triples for every rule kind of the CF language.

    generate(n, seed=0, split="train") -> list[dict]      # deterministic for (n, seed, split)

Each triple: {"request", "table" (JSON rows, header first), "rule" (canonical), "kind", "split",
"columns" (the table columns the rule's range covers, for execution), "held_out" (uses a held-out
phrasing piece)}. Construction per triple:

1. draw a kind (weights in KIND_WEIGHTS) and a table from a domain of vocab.py that has the
   column type the kind needs (numbers for comparisons, text for text rules, dates for periods);
2. draw literals from the table's own cells (thresholds between real values, text that occurs
   or is part of a cell), and decide cell rule vs row rule (`c[i]`, the request names the column);
3. compose the request from phrasing pieces (frame, verb, object, condition phrase, optional style
   and location clauses, lower-casing and typos outside literals);
4. check: the rule parses, is stored in canonical form, and the executor formats at least one cell
   (and, for highlight rules, not every cell) of the table; otherwise the draw is retried.

Nothing here reads the benchmark records, so the real dev records stay unseen.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, timedelta

from cf_rules.executor import execute
from cf_rules.parser import parse
from cf_rules.printer import to_canonical
from cf_rules.table import table_from_json

from . import phrasing as P
from .draws import (Draw, _column_values, _is_percent_column, _number_surface, _numbers_of, _text_literal,
                    _text_surface, _threshold)
from .frames import (_Builder, _clauses, _fill, _finish, _frame_cond, _frame_noun, _frame_row, _frame_row_noun,
                     _pick_column, _use_row_rule)
from .vocab import DOMAINS, REFERENCE_TODAY, ColumnSpec
from .wide_build import build_wide_triple

KIND_WEIGHTS = {
    "GreaterThan": 9, "LessThan": 8, "GreaterThanEqual": 3, "LessThanEqual": 3, "Equals": 3, "NotEquals": 2,
    "Between": 6, "NotBetween": 2,
    "TextContains": 7, "TextEquals": 7, "TextStartsWith": 3, "TextEndsWith": 3,
    "top": 7, "bottom": 5, "aboveAverage": 3, "belowAverage": 3,
    "Duplicate": 4, "Unique": 2, "Blanks": 3, "Errors": 2, "NotBlanks": 2, "NotErrors": 1,
    "Date": 6,
    "ColorScale": 6, "DataBar": 4, "IconSet": 4,
    "AndRange": 3, "OrOutside": 2, "OrText": 2, "NotText": 3, "RowAnd": 3, "RowOr": 2,
    "Formula": 1,
}
NEEDS = {   # column type a kind needs
    **{k: "number" for k in ("GreaterThan", "LessThan", "GreaterThanEqual", "LessThanEqual", "Equals", "NotEquals",
                             "Between", "NotBetween", "top", "bottom", "aboveAverage", "belowAverage",
                             "ColorScale", "DataBar", "IconSet", "AndRange", "OrOutside", "Formula")},
    **{k: "text" for k in ("TextContains", "TextEquals", "TextStartsWith", "TextEndsWith", "OrText", "NotText")},
    "Date": "date",
}
DATE_KINDS = tuple(P.DATES)
MAX_ATTEMPTS = 40
WIDE_SHARE = 0.6     # share of triples from the wide generator; the classic ones keep the benchmark's shapes


# ----------------------------------------------------------------------------------------------
# tables

def _benchmark_like(rng: random.Random, need: str) -> tuple[list[ColumnSpec], str]:
    """The benchmark's own table shape: Index, Value (+ an extra numeric column)."""
    if need == "text":
        source = rng.choice([s for specs in DOMAINS.values() for s in specs if s.kind == "text" and s.categorical])
        value = ColumnSpec(("Value",), "text", source.make, ("value",), True)
    elif need == "date":
        source = rng.choice([s for specs in DOMAINS.values() for s in specs if s.kind == "date"])
        value = ColumnSpec(("Value",), "date", source.make, ("value",))
    else:
        source = rng.choice([s for specs in DOMAINS.values() for s in specs if s.kind == "number"])
        value = ColumnSpec(("Value",), "number", source.make, ("value",))
    specs = [ColumnSpec(("Index",), "number", None, ("index",)), value]
    if rng.random() < 0.5:
        extra = rng.choice(["Score", "ID", "Count", "Point"])
        specs.append(ColumnSpec((extra,), "number", lambda r: r.randint(0, 99), (extra.lower(),)))
    return specs, "benchmark"


def make_table(rng: random.Random, need: str | None, n_columns: int | None = None):
    """(json rows, specs, headers, domain). The table has at least one column of type `need`."""
    if rng.random() < 0.15:
        specs, domain = _benchmark_like(rng, need or "number")
    else:
        domains = [d for d, specs in DOMAINS.items() if need is None or any(s.kind == need for s in specs)]
        domain = rng.choice(domains)
        pool = list(DOMAINS[domain])
        k = n_columns or rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6])
        k = min(k, len(pool))
        specs = rng.sample(pool, k)
        if need and not any(s.kind == need for s in specs):
            specs[rng.randrange(len(specs))] = rng.choice([s for s in pool if s.kind == need and s not in specs])
        # a header spelling per column, all different
    headers, seen = [], set()
    for s in specs:
        name = rng.choice(s.headers)
        if name.lower() in seen:
            name = s.headers[0] if s.headers[0].lower() not in seen else name + " 2"
        seen.add(name.lower())
        headers.append(name)
    n_rows = rng.randint(6, 24)
    rows = []
    for i in range(n_rows):
        row = []
        for s in specs:
            row.append(i if s.make is None else s.make(rng))
        rows.append(row)
    return [headers] + rows, specs, headers, domain



def build_triple(rng: random.Random, kind: str, split: str) -> dict:
    need = NEEDS.get(kind)
    if kind in ("RowAnd", "RowOr"):
        rows, specs, headers, domain = make_table(rng, "text", n_columns=rng.randint(3, 5))
        if not any(s.kind == "number" for s in specs) and kind == "RowAnd":
            raise Draw("row AND wants a number column too")
    elif kind == "Formula":
        rows, specs, headers, domain = make_table(rng, "number", n_columns=rng.randint(3, 5))
    else:
        rows, specs, headers, domain = make_table(rng, need)
    b = _Builder(rng, split, kind)
    builder = _KIND_BUILDERS.get(kind) or (_date_kind if kind == "Date" else None)
    rule, request, columns, family = builder(b, rows, specs, headers)
    parsed = parse(rule)
    canonical = to_canonical(parsed)
    table = table_from_json(rows)
    execution = execute(parsed, table, today=REFERENCE_TODAY, columns=columns)
    in_range = table.n_rows * (len(columns) if columns is not None else table.n_cols)
    if not execution.cells:
        raise Draw("formats no cell")
    if family == "highlight" and len(execution.cells) >= in_range and in_range >= 4:
        raise Draw("formats every cell")
    if split == "novel" and not b.pieces.used_held_out:
        raise Draw("novel split needs a held-out piece")
    return {"request": request, "table": rows, "rule": canonical, "kind": _kind_label(kind, parsed),
            "split": split, "columns": columns, "domain": domain, "held_out": b.pieces.used_held_out,
            "formatted": len(execution.cells)}


def _kind_label(kind: str, rule) -> str:
    name = getattr(rule, "name", "Formula")
    column = any(getattr(c, "column", None) is not None for c in _walk(rule))
    return f"{name}{'/row' if column else ''}"


def _walk(rule):
    yield rule
    for arg in getattr(rule, "args", ()):
        if hasattr(arg, "args"):
            yield from _walk(arg)


# ----------------------------------------------------------------------------------------------
# kind builders: (b, rows, specs, headers) -> (rule text, request, columns, family)

def _compare(b: _Builder, rows, specs, headers):
    rng, kind = b.rng, b.kind
    col = _pick_column(rng, specs, "number")
    numbers = _numbers_of(rows, col)
    if len(numbers) < 3:
        raise Draw("too few numbers")
    percent = _is_percent_column(rows, col)
    money = any(w in headers[col].lower() for w in ("salary", "sales", "revenue", "amount", "cost", "price",
                                                    "budget", "actual", "spend", "pay", "balance"))

    def number(q_lo=0.15, q_hi=0.85):
        value = _threshold(rng, numbers, q_lo, q_hi)
        return _number_surface(value, rng, money=money, percent=percent)

    if kind in ("Between", "NotBetween"):
        (s1, r1), (s2, r2) = number(0.05, 0.5), number(0.5, 0.95)
        if float(r1.rstrip("%")) >= float(r2.rstrip("%")):
            raise Draw("empty interval")
        if rng.random() < 0.05:      # people sometimes write the bounds high-to-low
            (s1, r1), (s2, r2) = (s2, r2), (s1, r1)
        args, lits = f"{r1}, {r2}", {"a": s1, "b": s2}
    elif kind == "Equals" or kind == "NotEquals":
        value = rng.choice(numbers)
        s1, r1 = _number_surface(value, rng, money=money, percent=percent)
        args, lits = r1, {"a": s1}
    else:
        s1, r1 = number()
        args, lits = r1, {"a": s1}
    phrases = P.COMPARE[kind]
    pred = b.pick(phrases["pred"])
    part = b.pick(phrases["part"])
    pred, part = (_fill(x, **{k: b.slot(k, v) for k, v in lits.items()}) for x in (pred, part))
    if _use_row_rule(rng, specs, kind):
        words = b.column_words(specs[col], headers[col])
        return f"{kind}(c[{col}], {args})", _frame_row(b, rows, words, pred, part), None, "highlight"
    return f"{kind}({args})", _frame_cond(b, rows, pred, part), [col], "highlight"


def _text(b: _Builder, rows, specs, headers):
    rng, kind = b.rng, b.kind
    col = _pick_column(rng, specs, "text")
    how = {"TextContains": "contains", "TextEquals": "equals", "TextStartsWith": "starts", "TextEndsWith": "ends"}[kind]
    text = _text_literal(rng, _column_values(rows, col), how)
    if rng.random() < 0.15:
        text = text.lower()
    surface = _text_surface(text, rng)
    phrases = P.TEXT[kind]
    a = b.slot("a", surface)
    pred, part = _fill(b.pick(phrases["pred"]), a=a), _fill(b.pick(phrases["part"]), a=a)
    if _use_row_rule(rng, specs, kind):
        words = b.column_words(specs[col], headers[col])
        return f"{kind}(c[{col}], {_rule_text(text)})", _frame_row(b, rows, words, pred, part), None, "highlight"
    return f"{kind}({_rule_text(text)})", _frame_cond(b, rows, pred, part, P.TEXT_OBJECTS), [col], "highlight"


def _rule_text(text: str) -> str:
    """Text as a rule argument: bare when safe, else double-quoted (the printer settles the final form)."""
    if re.fullmatch(r"[^(),\"'\s][^(),\"]*", text) and text == text.strip():
        return text
    return '"' + text.replace('"', '""') + '"'


def _rank(b: _Builder, rows, specs, headers):
    rng, kind = b.rng, b.kind
    col = _pick_column(rng, specs, "number")
    numbers = _numbers_of(rows, col)
    if len(numbers) < 4:
        raise Draw("too few numbers to rank")
    style = rng.random()
    if style < 0.2:
        phrases, arg = P.RANK[kind + "1"], "1"
        noun = b.pick(phrases)
    elif style < 0.45:
        p = rng.choice([5, 10, 10, 15, 20, 25, 30, 50])
        arg = f"{p}%"
        noun = _fill(b.pick(P.RANK[kind + "P"]), p=b.slot("p", str(p)))
    else:
        n = rng.choice([2, 3, 3, 4, 5, 5, 10, 10, 3, 7])
        if n >= len(numbers):
            n = 2
        arg = str(n)
        spelled = P.NUMBER_WORDS[n] if rng.random() < 0.2 else str(n)
        template = b.pick(P.RANK[kind])
        if spelled.isalpha() and "{n}" in template and "top{n}" in template:
            spelled = str(n)
        noun = _fill(template, n=b.slot("n", spelled))
    if _use_row_rule(rng, specs, kind):
        words = b.column_words(specs[col], headers[col])
        return f"{kind}(c[{col}], {arg})", _frame_row_noun(b, rows, words, noun), None, "rank"
    return f"{kind}({arg})", _frame_noun(b, rows, noun), [col], "rank"


def _average(b: _Builder, rows, specs, headers):
    rng, kind = b.rng, b.kind
    col = _pick_column(rng, specs, "number")
    pred = b.pick(P.AVERAGE[kind])
    if _use_row_rule(rng, specs, kind):
        words = b.column_words(specs[col], headers[col])
        return f"{kind}(c[{col}])", _frame_row(b, rows, words, pred, pred), None, "rank"
    if rng.random() < 0.3:
        return f"{kind}()", _frame_noun(b, rows, f"{rng.choice(['values', 'numbers', 'cells', 'scores'])} {pred}"), [col], "rank"
    return f"{kind}()", _frame_cond(b, rows, pred, pred), [col], "rank"


def _set(b: _Builder, rows, specs, headers):
    rng, kind = b.rng, b.kind
    options = [i for i, s in enumerate(specs) if s.make is not None and (s.categorical or s.kind == "number")]
    col = rng.choice(options or [len(specs) - 1])
    values = [r[col] for r in rows[1:]]
    if kind == "Duplicate" and len(set(map(str, values))) == len(values):
        j = rng.randrange(1, len(rows))
        rows[j][col] = rows[1 + (j % (len(rows) - 1))][col]
    phrases = P.SETS[kind]
    if _use_row_rule(rng, specs, kind):
        words = b.column_words(specs[col], headers[col])
        if rng.random() < 0.5:
            return f"{kind}(c[{col}])", _frame_row_noun(b, rows, words, b.pick(phrases["noun"])), None, "set"
        pred = b.pick(phrases["pred"])
        return f"{kind}(c[{col}])", _frame_row(b, rows, words, pred, pred), None, "set"
    if rng.random() < 0.6:
        return f"{kind}()", _frame_noun(b, rows, b.pick(phrases["noun"])), [col], "set"
    pred = b.pick(phrases["pred"])
    return f"{kind}()", _frame_cond(b, rows, pred, None), [col], "set"


def _state(b: _Builder, rows, specs, headers):
    rng, kind = b.rng, b.kind
    col = rng.choice([i for i, s in enumerate(specs) if s.make is not None] or [0])
    hits = rng.sample(range(1, len(rows)), k=min(len(rows) - 1, rng.randint(1, 3)))
    for j in hits:
        if kind in ("Blanks", "NotBlanks"):
            rows[j][col] = ""
        else:
            rows[j][col] = rng.choice(["#N/A", "#DIV/0!", "#VALUE!", "#REF!"])
    rule = {"Blanks": "Blanks({c})", "Errors": "Errors({c})", "NotBlanks": "NOT(Blanks({c}))",
            "NotErrors": "NOT(Errors({c}))"}[kind]
    phrases = P.STATES[kind]
    if _use_row_rule(rng, specs, kind):
        words = b.column_words(specs[col], headers[col])
        pred = b.pick(phrases["pred"])
        if rng.random() < 0.5 and kind in ("Blanks", "Errors"):
            return rule.format(c=f"c[{col}]"), _frame_row_noun(b, rows, words, b.pick(phrases["noun"])), None, "state"
        return rule.format(c=f"c[{col}]"), _frame_row(b, rows, words, pred, pred), None, "state"
    if rng.random() < 0.55:
        return rule.format(c=""), _frame_noun(b, rows, b.pick(phrases["noun"])), [col], "state"
    pred = b.pick(phrases["pred"])
    return rule.format(c=""), _frame_cond(b, rows, pred, None), [col], "state"


def _period_days(kind: str) -> list[date]:
    t = REFERENCE_TODAY
    sunday = t - timedelta(days=(t.weekday() + 1) % 7)
    month0 = t.replace(day=1)
    prev_month_end = month0 - timedelta(days=1)
    next_month = (month0 + timedelta(days=32)).replace(day=1)
    return {
        "Today": [t], "Yesterday": [t - timedelta(days=1)], "Tomorrow": [t + timedelta(days=1)],
        "Last7Days": [t - timedelta(days=i) for i in range(7)],
        "ThisWeek": [sunday + timedelta(days=i) for i in range(7)],
        "LastWeek": [sunday - timedelta(days=7 - i) for i in range(7)],
        "NextWeek": [sunday + timedelta(days=7 + i) for i in range(7)],
        "ThisMonth": [month0 + timedelta(days=i) for i in range(28)],
        "LastMonth": [prev_month_end - timedelta(days=i) for i in range(28)],
        "NextMonth": [next_month + timedelta(days=i) for i in range(28)],
    }[kind]


def _date_kind(b: _Builder, rows, specs, headers):
    rng = b.rng
    kind = rng.choice(DATE_KINDS)
    col = _pick_column(rng, specs, "date")
    for j in rng.sample(range(1, len(rows)), k=min(len(rows) - 1, rng.randint(1, 3))):
        rows[j][col] = rng.choice(_period_days(kind)).isoformat()
    phrase = b.pick(P.DATES[kind])
    if _use_row_rule(rng, specs, kind):
        words = b.column_words(specs[col], headers[col])
        return f"{kind}(c[{col}])", _frame_row(b, rows, words, phrase, phrase), None, "date"
    if rng.random() < 0.5:
        noun = f"{rng.choice(P.DATE_NOUNS)} {phrase}"
        return f"{kind}()", _frame_noun(b, rows, noun), [col], "date"
    return f"{kind}()", _frame_cond(b, rows, phrase, phrase, P.DATE_NOUNS), [col], "date"


def _visual(b: _Builder, rows, specs, headers):
    rng, kind = b.rng, b.kind
    col = _pick_column(rng, specs, "number")
    args: list[str] = []
    if kind == "ColorScale":
        if rng.random() < 0.5:
            thing = b.pick(P.SCALES[""])
        else:
            shape = b.pick(P.SCALE_SHAPES)
            n = 3 if "{c2}" in shape else 2
            colours = rng.sample(P.SCALE_COLOUR_WORDS, n)
            thing = _fill(shape, **{f"c{i}": c for i, c in enumerate(colours)})
            args = colours
    elif kind == "DataBar":
        thing = b.pick(P.BARS)
        if rng.random() < 0.4:
            colour = rng.choice(["blue", "green", "red", "orange", "purple"])
            thing = f"{colour} {thing}" if not thing.startswith("a ") else f"a {colour} {thing[2:]}"
            args = [colour]
    else:
        phrase = b.pick(list(P.ICONS))
        thing = phrase
        if P.ICONS[phrase]:
            args = [P.ICONS[phrase]]
    frame = b.pick(P.VISUAL_FRAMES)
    if _use_row_rule(rng, specs, kind):
        target = _fill(rng.choice(P.VISUAL_TARGETS_COL), col=b.column_words(specs[col], headers[col]))
        rule = f"{kind}({', '.join([f'c[{col}]'] + args)})"
        columns = None
    else:
        target = rng.choice(P.VISUAL_TARGETS_CELL)
        rule = f"{kind}({', '.join(args)})"
        columns = [col]
    return rule, _finish(b, _fill(frame, thing=thing, target=target)), columns, "visual"


def _number_pair(b: _Builder, rows, specs, bands):
    """A numeric column and two thresholds drawn from its values, the first in band[0], the second
    in band[1] (quantile ranges), each as (surface text for the request, rule literal)."""
    col = _pick_column(b.rng, specs, "number")
    numbers = _numbers_of(rows, col)
    if len(numbers) < 4:
        raise Draw("too few numbers")
    percent = _is_percent_column(rows, col)
    (s1, r1), (s2, r2) = (_number_surface(_threshold(b.rng, numbers, lo, hi), b.rng, percent=percent)
                          for lo, hi in bands)
    if float(r1.rstrip("%")) >= float(r2.rstrip("%")):
        raise Draw("empty interval")
    return col, (s1, r1), (s2, r2)


def _and_range(b: _Builder, rows, specs, headers):
    rng = b.rng
    col, (s1, r1), (s2, r2) = _number_pair(b, rows, specs, ((0.05, 0.45), (0.55, 0.95)))
    low = rng.choice([("GreaterThanEqual", ("greater than or equal to {a}", "at least {a}", "{a} or more")),
                      ("GreaterThan", ("greater than {a}", "above {a}", "over {a}", "more than {a}"))])
    high = rng.choice([("LessThan", ("less than {b}", "below {b}", "under {b}")),
                       ("LessThanEqual", ("less than or equal to {b}", "at most {b}", "{b} or less"))])
    joiner = b.pick(("{x} and {y}", "{x} but {y}", "both {x} and {y}", "{x} and also {y}", "{x} while {y}"))
    a, bb = b.slot("a", s1), b.slot("b", s2)
    phrase = _fill(joiner, x=_fill(rng.choice(low[1]), a=a), y=_fill(rng.choice(high[1]), b=bb))
    if _use_row_rule(rng, specs, "AndRange"):
        words = b.column_words(specs[col], headers[col])
        rule = f"AND({low[0]}(c[{col}], {r1}), {high[0]}(c[{col}], {r2}))"
        return rule, _frame_row(b, rows, words, phrase, phrase), None, "highlight"
    return f"AND({low[0]}({r1}), {high[0]}({r2}))", _frame_cond(b, rows, phrase, None), [col], "highlight"


def _or_outside(b: _Builder, rows, specs, headers):
    col, (s1, r1), (s2, r2) = _number_pair(b, rows, specs, ((0.1, 0.4), (0.6, 0.9)))
    a, bb = b.slot("a", s1), b.slot("b", s2)
    phrase = _fill(b.pick(("either less than {a} or greater than {b}", "below {a} or above {b}",
                           "under {a} or over {b}", "less than {a} or more than {b}",
                           "either below {a} or above {b}", "lower than {a} or higher than {b}")), a=a, b=bb)
    return f"OR(LessThan({r1}), GreaterThan({r2}))", _frame_cond(b, rows, phrase, phrase), [col], "highlight"


def _or_text(b: _Builder, rows, specs, headers):
    rng = b.rng
    col = _pick_column(rng, specs, "text")
    values = sorted({v for v in _column_values(rows, col) if isinstance(v, str) and v.strip()})
    if len(values) < 3:
        raise Draw("too few distinct texts")
    x, y = rng.sample(values, 2)
    a, bb = b.slot("a", _text_surface(x, rng)), b.slot("b", _text_surface(y, rng))
    phrase = _fill(b.pick(("either {a} or {b}", "{a} or {b}", "equal to {a} or {b}", "{a} or else {b}",
                           "one of {a} and {b}", "{a}, or {b}")), a=a, b=bb)
    if _use_row_rule(rng, specs, "OrText"):
        words = b.column_words(specs[col], headers[col])
        rule = f"OR(TextEquals(c[{col}], {_rule_text(x)}), TextEquals(c[{col}], {_rule_text(y)}))"
        return rule, _frame_row(b, rows, words, phrase, phrase), None, "highlight"
    rule = f"OR(TextEquals({_rule_text(x)}), TextEquals({_rule_text(y)}))"
    return rule, _frame_cond(b, rows, phrase, None, P.TEXT_OBJECTS), [col], "highlight"


def _not_text(b: _Builder, rows, specs, headers):
    rng = b.rng
    col = _pick_column(rng, specs, "text")
    if rng.random() < 0.5:
        text = _text_literal(rng, _column_values(rows, col), "contains")
        inner = "TextContains"
        phrases = ("that do not contain {a}", "not containing {a}", "without {a}", "that don't contain {a}",
                   "which do not include {a}", "that do not have {a} in them", "lacking {a}")
        preds = ("not containing {a}", "missing the text {a}", "free of {a}")
    else:
        text = _text_literal(rng, _column_values(rows, col), "equals")
        inner = "TextEquals"
        phrases = ("not equal to {a}", "that are not {a}", "other than {a}", "that don't say {a}",
                   "which aren't {a}", "that do not read {a}")
        preds = ("not {a}", "anything but {a}", "not equal to {a}", "something other than {a}")
    a = b.slot("a", _text_surface(text, rng))
    part, pred = _fill(b.pick(phrases), a=a), _fill(b.pick(preds), a=a)
    if _use_row_rule(rng, specs, "NotText"):
        words = b.column_words(specs[col], headers[col])
        return f"NOT({inner}(c[{col}], {_rule_text(text)}))", _frame_row(b, rows, words, pred, part), None, "highlight"
    return f"NOT({inner}({_rule_text(text)}))", _frame_cond(b, rows, pred, part, P.TEXT_OBJECTS), [col], "highlight"


def _row_combo(b: _Builder, rows, specs, headers):
    """AND/OR over two columns: 'rows where Region is North and Sales is over 500'."""
    rng = b.rng
    text_cols = [i for i, s in enumerate(specs) if s.kind == "text" and s.categorical and s.make is not None]
    num_cols = [i for i, s in enumerate(specs) if s.kind == "number" and s.make is not None]
    if not text_cols:
        raise Draw("no categorical column")
    tc = rng.choice(text_cols)
    value = rng.choice([v for v in _column_values(rows, tc) if isinstance(v, str)])
    t_words = b.column_words(specs[tc], headers[tc])
    first_rule = f"TextEquals(c[{tc}], {_rule_text(value)})"
    first = f"{t_words} is {b.slot('a', _text_surface(value, rng))}"
    if b.kind == "RowAnd" and num_cols:
        nc = rng.choice(num_cols)
        numbers = _numbers_of(rows, nc)
        if len(numbers) < 3:
            raise Draw("too few numbers")
        s, r = _number_surface(_threshold(rng, numbers), rng, percent=_is_percent_column(rows, nc))
        op, words = rng.choice([("GreaterThan", ("over {x}", "greater than {x}", "above {x}", "more than {x}")),
                                ("LessThan", ("under {x}", "less than {x}", "below {x}"))])
        second_rule = f"{op}(c[{nc}], {r})"
        second = f"{b.column_words(specs[nc], headers[nc])} is {_fill(rng.choice(words), x=b.slot('b', s))}"
        logic = "AND"
    else:
        others = [i for i in text_cols if i != tc]
        if not others:
            raise Draw("OR wants two text columns")
        oc = rng.choice(others)
        v2 = rng.choice([v for v in _column_values(rows, oc) if isinstance(v, str)])
        second_rule = f"TextEquals(c[{oc}], {_rule_text(v2)})"
        second = f"{b.column_words(specs[oc], headers[oc])} is {b.slot('b', _text_surface(v2, rng))}"
        logic = "AND" if b.kind == "RowAnd" else "OR"
    joiner = " and " if logic == "AND" else rng.choice([" or ", " or if ", ", or "])
    cond = first + joiner + second
    c = _clauses(b, rows)
    frame = b.pick(("{verb} {rows} where {cond}{style}", "{verb} {rows} if {cond}{style}", "{rows} where {cond}{style}",
                    "can you {verb} {rows} where {cond}?", "{verb}{style} {rows} in which {cond}",
                    "when {cond}, {verb} the row{style}", "{verb} {rows} for which {cond}{style}"))
    verb = b.pick(P.VERBS)
    text = _fill(frame, verb=verb, rows=rng.choice(P.ROW_OBJECTS), cond=cond, **c)
    return f"{logic}({first_rule}, {second_rule})", _finish(b, text), None, "highlight"


def _formula(b: _Builder, rows, specs, headers):
    """Formula rules, sparingly: one numeric column compared with another on the same row."""
    rng = b.rng
    num_cols = [i for i, s in enumerate(specs) if s.kind == "number" and s.make is not None
                and not _is_percent_column(rows, i)]
    if len(num_cols) < 2:
        raise Draw("needs two numeric columns")
    x, y = rng.sample(num_cols, 2)
    letters = "ABCDEFGHIJ"
    op, words = rng.choice([(">", ("is greater than", "exceeds", "is more than", "is above", "is bigger than")),
                            ("<", ("is less than", "is below", "is lower than", "falls short of", "is under"))])
    xw, yw = b.column_words(specs[x], headers[x]), b.column_words(specs[y], headers[y])
    cond = f"{xw} {rng.choice(words)} {yw}"
    c = _clauses(b, rows)
    frame = b.pick(("{verb} {rows} where {cond}{style}", "{verb} {rows} if {cond}{style}",
                    "{verb} the row when {cond}{style}", "flag {rows} where {cond}", "{rows} where {cond}{style}"))
    text = _fill(frame, verb=b.pick(P.VERBS), rows=rng.choice(P.ROW_OBJECTS), cond=cond, **c)
    return f"=${letters[x]}2{op}${letters[y]}2", _finish(b, text), None, "highlight"


_KIND_BUILDERS = {
    **{k: _compare for k in P.COMPARE},
    **{k: _text for k in P.TEXT},
    "top": _rank, "bottom": _rank, "aboveAverage": _average, "belowAverage": _average,
    "Duplicate": _set, "Unique": _set, "Blanks": _state, "Errors": _state, "NotBlanks": _state, "NotErrors": _state,
    "ColorScale": _visual, "DataBar": _visual, "IconSet": _visual,
    "AndRange": _and_range, "OrOutside": _or_outside, "OrText": _or_text, "NotText": _not_text,
    "RowAnd": _row_combo, "RowOr": _row_combo, "Formula": _formula,
}


# ----------------------------------------------------------------------------------------------
# public API

def generate(n: int, seed: int = 0, split: str = "train", kinds: dict[str, float] | None = None,
             stats: Counter | None = None, wide_share: float | None = None) -> list[dict]:
    """`n` triples, deterministic for (n, seed, split, wide_share). `stats` (a Counter) collects why
    draws were rejected ("drop:<reason>") next to the kinds produced. A `wide_share` of the triples
    come from the wide generator (wide_build.py: realistic sheets, many styles and languages), the
    rest from the classic one below; `kinds` weighs the classic kinds, and asking for kinds turns
    the wide share off unless `wide_share` is given too (default WIDE_SHARE)."""
    if wide_share is None:
        wide_share = WIDE_SHARE if kinds is None else 0.0
    if split not in ("train", "novel"):
        raise ValueError(f"split must be 'train' or 'novel', got {split!r}")
    weights = kinds or KIND_WEIGHTS
    names, probs = list(weights), list(weights.values())
    out = []
    for i in range(n):
        rng = random.Random(f"cfgen:{seed}:{split}:{i}")
        wide = wide_share > 0 and random.Random(f"cfgen-wide:{seed}:{i}").random() < wide_share
        for _ in range(MAX_ATTEMPTS):
            kind = rng.choices(names, probs)[0]
            try:
                triple = build_wide_triple(rng, split) if wide else build_triple(rng, kind, split)
            except Draw as exc:
                if stats is not None:
                    stats[f"drop:{exc}"] += 1
                continue
            out.append(triple)
            if stats is not None:
                stats[triple["kind"]] += 1
            break
        else:
            raise RuntimeError(f"triple {i} (seed {seed}, {split}): no valid draw in {MAX_ATTEMPTS} attempts")
    return out
