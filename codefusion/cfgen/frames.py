"""Request assembly for the classic generator: literal slots, frames around a condition phrase, style
and location clauses, capitalisation and typos outside literals."""
from __future__ import annotations

import re

from . import phrasing as P
from .draws import Draw
from .vocab import SHEET_NAMES, ColumnSpec


class _Builder:
    def __init__(self, rng: random.Random, split: str, kind: str):
        self.rng, self.kind, self.split = rng, kind, split
        self.pieces = P.Pieces(rng, split)
        self.want_held = split == "novel"
        self.literals: dict[str, str] = {}      # slot -> request surface

    def pick(self, items, holdable=True):
        held = self.want_held and holdable and self.rng.random() < 0.6
        choice = self.pieces.pick(items, holdable=holdable, want_held=held)
        return choice

    # -- literal slots: surfaces are protected from typos and lower-casing by «» markers
    def slot(self, name: str, surface: str) -> str:
        self.literals[name] = surface
        return "«" + name + "»"

    def column_words(self, spec: ColumnSpec, header: str) -> str:
        r = self.rng.random()
        if r < 0.65 or not spec.words:
            return header
        if r < 0.85:
            return header.lower()
        return self.rng.choice(spec.words)


def _fill(template: str, **values) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def _clauses(b: _Builder, rows, style_ok: bool = True) -> dict:
    rng = b.rng
    colour = rng.choice(P.COLOURS)
    n = len(rows) - 1
    letter = rng.choice("ABCDEFGH")
    a1, a2 = f"{letter}{rng.randint(2, 5)}", f"{letter}{rng.randint(10, 200)}"
    sheet = rng.choice(SHEET_NAMES)
    loc_values = dict(letter=letter, range=f"{a1}:{a2}", sheet=sheet, a1=a1, a2=a2)
    style = _fill(rng.choice(P.STYLE), colour=colour) if style_ok and rng.random() < 0.45 else ""
    loc = _fill(rng.choice(P.LOC), **loc_values) if rng.random() < 0.3 else ""
    loc_lead = _fill(rng.choice(P.LOC_LEAD), **loc_values) if rng.random() < 0.5 else ""
    style_bare = _fill(rng.choice(P.STYLE_BARE), colour=colour)
    return dict(style=style, loc=loc, loc_lead=loc_lead, style_bare=style_bare, colour=colour, n=str(n))


def _finish(b: _Builder, text: str) -> str:
    rng = b.rng
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.?])", r"\1", text)
    if rng.random() < 0.12:
        text = P.add_noise(text, rng, typo_rate=0.2)
    r = rng.random()
    if r < 0.5:
        text = text[:1].upper() + text[1:]
    elif r < 0.58:
        text = re.sub(r"[.?!]$", "", text)
    for name, surface in b.literals.items():
        text = text.replace("«" + name + "»", surface)
    return text


def _frame_cond(b: _Builder, rows, cond_pred: str | None, cond_part: str | None, objects=P.CELL_OBJECTS) -> str:
    """A cell-rule request: imperative/question/casual frame around a condition phrase."""
    rng = b.rng
    c = _clauses(b, rows)
    frame = b.pick(P.IMPERATIVE)
    if cond_part is not None and (cond_pred is None or rng.random() < 0.5):
        cond = cond_part
    else:
        cond = f"{rng.choice(P.RELATIVE)} {cond_pred}"
    verb = b.pick(P.VERBS)
    ing, ed = P.verb_forms(verb)
    obj = rng.choice(objects)
    obj2 = rng.choice(("cells", "values", "entries", "numbers", "items", "fields"))
    text = _fill(frame, verb=verb, verb_ing=ing, verb_ed=ed, obj=obj, obj2=obj2,
                 cond=cond, **c)
    return _finish(b, text)


def _frame_noun(b: _Builder, rows, noun: str) -> str:
    c = _clauses(b, rows)
    frame = b.pick(P.NOUN_FRAMES)
    verb = b.pick(P.VERBS)
    ing, ed = P.verb_forms(verb)
    return _finish(b, _fill(frame, verb=verb, verb_ing=ing, verb_ed=ed, noun=noun, **c))


def _frame_row(b: _Builder, rows, col_words: str, pred: str, part: str) -> str:
    c = _clauses(b, rows)
    frame = b.pick(P.ROW_FRAMES)
    verb = b.pick(P.VERBS)
    ing, ed = P.verb_forms(verb)
    return _finish(b, _fill(frame, verb=verb, verb_ing=ing, verb_ed=ed, rows=b.rng.choice(P.ROW_OBJECTS),
                            col=col_words, pred=pred, part=part, **{"is": b.rng.choice(["is", "is", "'s"])}, **c))


def _frame_row_noun(b: _Builder, rows, col_words: str, noun: str) -> str:
    c = _clauses(b, rows)
    frame = b.pick(P.ROW_NOUN_FRAMES)
    verb = b.pick(P.VERBS)
    ing, ed = P.verb_forms(verb)
    noun2 = re.sub(r"^the ", "", noun)
    return _finish(b, _fill(frame, verb=verb, verb_ing=ing, verb_ed=ed, noun=noun, noun2=noun2, col=col_words, **c))


def _col(rule_col: int | None) -> str:
    return "" if rule_col is None else f"c[{rule_col}], "


def _pick_column(rng, specs, need):
    options = [i for i, s in enumerate(specs) if s.kind == need and s.make is not None]
    if need == "text" and rng.random() < 0.7:
        options = [i for i in options if specs[i].categorical] or options
    if not options:
        raise Draw(f"no {need} column")
    return rng.choice(options)


def _use_row_rule(rng, specs, kind) -> bool:
    """Row rules (c[i]) need a table with more than one real column; the request then names it."""
    real = [s for s in specs if s.make is not None and s.headers[0] not in ("Value",)]
    return len(real) >= 2 and rng.random() < 0.45
