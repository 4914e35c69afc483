"""One wide triple: a sheet, a rule of some kind over its columns, a request in some style for it.

The request is composed from the parts in wording.py: a style (imperative, cells-first, question,
tutorial narration, forum post, terse), a target (rows, entity nouns, or the tested column's
cells), the condition phrase, a style clause, an opener and a closer. The triple is checked by
the grammar (parse, canonical form) and the executor (some but not all rows formatted).
"""
from __future__ import annotations

import random

from cf_rules.executor import execute
from cf_rules.parser import parse
from cf_rules.printer import to_canonical
from cf_rules.table import table_from_json

from . import phrasing as P
from . import wording as W
from .draws import Draw
from .wide import (ICON_WORDS, LANG_SHARE, STATE_KINDS, WIDE_KINDS, Req, column_words, condition,
                   decorate_headers, formula_condition, make_sheet_table)
from .sheets import SHEETS_BY_LANG

STYLES = {"imperative": 34, "question": 16, "tutorial": 10, "forum": 16, "terse": 14, "cells": 10}
VISUAL = {"ColorScale": ("a colour scale", "a color scale", "a heat map", "a green-to-red gradient", "colour scales"),
          "DataBar": ("data bars", "in-cell bars", "bars", "progress bars"),
          "IconSet": tuple(w for w, _ in ICON_WORDS)}
VISUAL_FRAMES = ("add {thing} to {cells}", "put {thing} on {cells}", "{col}: {thing}", "show {cells} as {thing}",
                 "can you add {thing} to {cells}?", "apply {thing} to the {col} column", "I want {thing} on {cells}",
                 "Here we add {thing} to {cells} so the sizes are easy to compare.", "{thing} for {col} please")
ALIAS_FRAMES = ("{verb} {target} for {alias}", "{verb} the {alias}", "{verb} all {alias}", "can you {verb} {alias}?",
                "show me {alias}{style}", "{alias} -> {verb}", "I need the {alias} {verb_ed}{style}",
                "Here we {verb} the {alias} in the list.")


def _fill(template: str, **values) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def _without(pool, slot):
    return tuple(p for p in pool if slot not in p) or pool


def _target_rows(req: Req, rng, sheet) -> str:
    if rng.random() < 0.4:
        noun = rng.choice(sheet.rows_noun)
        return noun if rng.random() < 0.3 else f"the {noun}"
    return req.pick(W.EN["rows"])


def english(req: Req, rng, sheet, rows, cond: str, np: str | None, rel: str | None, colw: str, fmt: str) -> str:
    verb = req.pick(W.EN["verb"])
    ing, ed = P.verb_forms(verb)
    style_clause = req.pick(W.EN["style"])
    cells = _fill(req.pick(W.EN["cells"]), col=colw)
    style = rng.choices(list(STYLES), list(STYLES.values()))[0]
    if fmt == "cells" and rel and (style in ("cells", "imperative") or rng.random() < 0.3):
        frame = req.pick(W.EN["terse_cells"] if style == "terse" else W.EN["cells_imperative"])
        return _fill(frame, verb=verb, cells=cells, rel=rel, col=colw, style=style_clause)
    target = cells if fmt == "cells" else _target_rows(req, rng, sheet)
    fills = dict(verb=verb, verb_ed=ed, verb_ing=ing, target=target, cond=cond, cond_np=np or cond,
                 cond_whose=cond, style=style_clause, col=colw)
    if style == "forum":
        headers = [h for h in rows[0] if h] + ["..."] * 3
        intro = _fill(req.pick(W.EN["forum"]), sheet=rng.choice(sheet.preamble), h1=headers[0], h2=headers[1],
                      h3=headers[2], n=str(len(rows) - 1))
        want = _fill(req.pick(W.EN["want"]), **fills)
        return f"{req.pick(W.EN['opener'])}{intro} {want}" + _closing(req, rng, want)
    key = {"cells": "imperative"}.get(style, style)
    pool = W.EN[key] if np else _without(W.EN[key], "{cond_np}")
    text = _fill(req.pick(pool), **fills)
    if style in ("imperative", "question"):
        text = req.pick(W.EN["opener"]) + text + _closing(req, rng, text)
    return text


def _closing(req: Req, rng, text: str) -> str:
    closer = req.pick(W.EN["closer"])
    if not closer or text.rstrip()[-1:] in ".?!":
        return closer
    return rng.choice((".", ",", "", ".")) + closer


def foreign(req: Req, lang: str, key: str, fills: dict, colw: str, fmt: str) -> str:
    parts = W.FOREIGN[lang]
    verb = req.pick(parts["verb"])
    cells = _fill(req.pick(parts["cells"]), col=colw)
    if fmt == "cells" and key in parts["rel"] and req.rng.random() < 0.5:
        rel = _fill(req.pick(parts["rel"][key]), **fills)
        return _fill(req.pick(parts["cells_frame"]), verb=verb, cells=cells, rel=rel)
    cond = _fill(req.pick(parts["cond"][key]), col=colw, **fills)
    target = cells if fmt == "cells" else req.pick(parts["rows"])
    return _fill(req.pick(parts["frame"]), verb=verb, target=target, cond=cond)


def _phrases(req: Req, key: str, colw: str, fills: dict):
    shapes = W.EN_COND[key]
    cond = _fill(req.pick(shapes["clause"]), col=colw, **fills)
    np = _fill(req.pick(shapes["np"]), col=colw, **fills) if shapes["np"] else None
    rel = _fill(req.pick(shapes["rel"]), **fills) if shapes["rel"] else None
    return cond, np, rel


def _draw_kind(rng, lang: str) -> str:
    kinds = WIDE_KINDS
    if lang != "en":
        allowed = set(W.FOREIGN[lang]["cond"])
        kinds = {k: w for k, w in WIDE_KINDS.items() if k in allowed}
    return rng.choices(list(kinds), list(kinds.values()))[0]


def build_wide_triple(rng: random.Random, split: str, kind: str | None = None, lang: str | None = None) -> dict:
    lang = lang or rng.choices(list(LANG_SHARE), list(LANG_SHARE.values()))[0]
    if kind and lang != "en" and kind not in W.FOREIGN[lang]["cond"]:
        lang = "en"         # the other languages phrase the common kinds only
    sheet = rng.choice(SHEETS_BY_LANG[lang])
    rows, fields = make_sheet_table(rng, sheet)
    req = Req(rng, split)
    kind = kind or _draw_kind(rng, lang)
    fmt = "rows" if rng.random() < 0.55 else "cells"
    family = "highlight"
    if kind in ("And", "Or", "AndNot"):
        fmt = "rows"
        first = rng.choice(("TextEquals", "GreaterThan", "LessThan", "TextEquals", "Between"))
        second = "NotTextEquals" if kind == "AndNot" else rng.choice(
            ("GreaterThan", "LessThan", "TextEquals", "Blanks", "GreaterThanEqual", "LessThanEqual"))
        r1, k1, f1, c1 = condition(rng, req, first, rows, fields, lang, tag="a")
        r2, k2, f2, c2 = condition(rng, req, second, rows, fields, lang, used=c1, tag="b")
        if kind == "AndNot":
            rule = f"AND({r1}, {r2})"
        else:
            rule = f"{'AND' if kind == 'And' else 'OR'}({r1}, {r2})"
        w1 = column_words(rng, fields[c1[0]], rows[0][c1[0]])
        w2 = column_words(rng, fields[c2[0]], rows[0][c2[0]])
        p1 = _fill(req.pick(W.EN_COND[k1]["clause"]), col=w1, **f1)
        p2 = _fill(req.pick(W.EN_COND[k2]["clause"]), col=w2, **f2)
        joiner = req.pick((" and ", " and also ", ", and ", " while ") if kind != "Or" else (" or ", ", or ", " or else "))
        if kind == "AndNot":
            joiner = req.pick((" but ", " and ", ", but "))
        used = c1 + c2
        text = english(req, rng, sheet, rows, p1 + joiner + p2, None, None, w1, fmt)
    elif kind.startswith(("ColLess", "ColGreater", "Len", "Abs")):
        fmt = "rows" if kind.startswith(("ColLess", "ColGreater")) else fmt
        rule, key, fills, used = formula_condition(rng, req, kind, rows, fields, lang)
        colw = column_words(rng, fields[used[0]], rows[0][used[0]])
        text = english(req, rng, sheet, rows, *_phrases(req, key, colw, fills), colw, fmt)
    elif kind in VISUAL:
        family, fmt = "visual", "cells"
        _, _, _, used = condition(rng, req, kind, rows, fields, lang)
        col = used[0]
        args = ""
        thing = req.pick(VISUAL[kind])
        if kind == "IconSet":
            args = dict(ICON_WORDS)[thing]
        rule = f"{kind}(c[{col}]{', ' + args if args else ''})"
        colw = column_words(rng, fields[col], rows[0][col])
        cells = _fill(req.pick(W.EN["cells"]), col=colw)
        text = _fill(req.pick(VISUAL_FRAMES), thing=thing, cells=cells, col=colw)
    elif kind == "Alias":
        fmt = "rows"
        options = [i for i, f in enumerate(fields) if f.aliases]
        if not options:
            raise Draw("no coded column")
        col = rng.choice(options)
        word, value = rng.choice(fields[col].aliases)
        rule, used = f"TextEquals(c[{col}], {value})", [col]
        verb = req.pick(W.EN["verb"])
        text = _fill(req.pick(ALIAS_FRAMES), verb=verb, verb_ed=P.verb_forms(verb)[1], alias=word,
                     target=_target_rows(req, rng, sheet), style=req.pick(W.EN["style"]))
    elif kind == "Vague":
        phrase = req.pick([v[0] for v in W.EN_VAGUE])
        _, base, literal = next(v for v in W.EN_VAGUE if v[0] == phrase)
        if base in ("Duplicate", "Unique") or base in STATE_KINDS:
            rule, _, _, used = condition(rng, req, base, rows, fields, lang)
        else:
            _, _, _, used = condition(rng, req, "aboveAverage", rows, fields, lang)
            rule = {"top1": f"top(c[{used[0]}], 1)", "bottom1": f"bottom(c[{used[0]}], 1)"}.get(
                base, f"{base}(c[{used[0]}], {literal})")
        colw = column_words(rng, fields[used[0]], rows[0][used[0]])
        text = english(req, rng, sheet, rows, _fill(phrase, col=colw), None, None, colw, fmt)
    else:
        rule, key, fills, used = condition(rng, req, kind, rows, fields, lang)
        colw = column_words(rng, fields[used[0]], rows[0][used[0]])
        if lang == "en":
            text = english(req, rng, sheet, rows, *_phrases(req, key, colw, fills), colw, fmt)
        else:
            text = foreign(req, lang, key, fills, colw, fmt)
    decorate_headers(rng, rows, set(used))
    request = req.finish(text, lang)
    canonical, formatted = check(rule, rows, family)
    if split == "novel" and not req.pieces.used_held_out:
        raise Draw("novel split needs a held-out piece")
    return {"request": request, "table": rows, "rule": canonical, "kind": f"{kind}/wide", "split": split,
            "columns": None, "domain": sheet.name, "held_out": req.pieces.used_held_out, "formatted": formatted,
            "format": fmt, "lang": lang}


def check(rule: str, rows, family: str) -> tuple[str, int]:
    """(canonical rule, rows formatted); Draw when it formats no row, or (a highlight) every row."""
    parsed = parse(rule)
    canonical = to_canonical(parsed)
    if to_canonical(parse(canonical)) != canonical:
        raise Draw("canonical form does not round-trip")
    table = table_from_json(rows)
    cells = execute(parsed, table).cells
    hit_rows = {int("".join(ch for ch in str(c) if ch.isdigit())) for c in cells}
    if not hit_rows:
        raise Draw("formats no cell")
    if family == "highlight" and len(hit_rows) >= table.n_rows:
        raise Draw("formats every row")
    return canonical, len(hit_rows)
