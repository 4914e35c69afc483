"""Column linking: which columns of the user's table a request is about, and which of their values it names.

As text-to-SQL systems link a question to its schema before trusting a generated query, every CF
candidate's columns are checked against the request here. Each column is scored by
- its header: the whole header or one of its words, any case, singular or plural ("salaries" ->
  `Salary`), abbreviations (`Qty.` <- "quantity", `Amt ($)` <- "amount", `Reorder Lvl` <- "reorder
  level": the short form is a subsequence of the word with the same first letter), small typos
  ("catagory" -> `Category`), a unit in parentheses ignored;
- its values: a text value of the column, or a distinctive word of one, found in the request
  ("Marcus" -> Owner holds `Marcus Lee`; "northern stores" -> `North`), and coded values read
  from everyday words ("women" -> `F` in a column of M/F);
- its type, for a rule that needs one: numeric conditions read numbers or dates, text conditions
  read text.
`link(request, table)` computes this once per request; the candidate pipeline asks it to bind a
rule's conditions to columns (`best_column`).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime

from cf_rules.table import Table, is_error

from ...encoders import phrase_vectors

HEADER_PHRASE = 5.0     # the whole header, as written
HEADER_WORD = 3.0       # one of its words (singular/plural folded)
HEADER_ABBREVIATION = 2.5
HEADER_TYPO = 2.0
VALUE_EXACT = 4.0       # a whole cell value
VALUE_WORD = 2.5        # a distinctive word of a value
VALUE_CODED = 3.5       # "women" for F
IDENTIFIER_ENTITY = 1.0  # "orders" against `Order ID`: the rows' entity more than the column
UNIT = 1.5              # "$1,000" against `Amt ($)`, "60%" against a percent column
MAX_RUN_WORDS = 6       # a whole value is looked for among the request's runs of up to this many words
MAX_NAME_WORDS = 4      # a value of more words is free text: one of its words does not name it
SEMANTIC = 4.0          # per unit of sentence-encoder similarity above SEMANTIC_FLOOR ("earning" ~ `Salary`)
SEMANTIC_FLOOR = 0.40
SEMANTIC_CAP = 1.8      # a synonym never outweighs a header the request spells

_IDENTIFIER = re.compile(r"(?:\bid\b|#|\bno\.?$|\bnr\b|\bcode\b|\bnumber\b)", re.IGNORECASE)
_IDENTIFIER_WORDS = re.compile(r"\b(?:ids?|numbers?|codes?|#)(?![^\W_])|#", re.IGNORECASE)
_UNITS = {"$": ("$", "usd", "dollar"), "€": ("€", "eur", "euro"), "£": ("£", "gbp"), "%": ("%", "percent", "pct", "rate")}

_STOPWORDS = frozenset("""a an the and or of in on at to for by with from is are be was were that this these those
it its their there which who whom what where when how any all every each some no not than then more less over
under above below cells cell rows row values value column col columns highlight mark colour color shade flag
show me my our i we you can could please would like want make them they those be have has had do does did
one only just also so as if into out up per each item items""".split())

# coded values people spell out: the word -> the codes a column may hold for it
_CODED = {
    "female": ("f", "female", "w"), "females": ("f", "female", "w"), "women": ("f", "female", "w"),
    "woman": ("f", "female", "w"), "girls": ("f", "female"), "ladies": ("f", "female"),
    "male": ("m", "male"), "males": ("m", "male"), "men": ("m", "male"), "man": ("m", "male"), "boys": ("m", "male"),
}


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case without accents ("Müller" and "muller" meet), whitespace collapsed."""
    text = unicodedata.normalize("NFKD", str(text).casefold())
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text))


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _abbreviates(short: str, word: str) -> bool:
    """`qty` abbreviates "quantity", `lvl` "level", `conv` "conversion": same first letter, the short
    form's letters in order inside the word, and the word clearly longer."""
    return (2 <= len(short) <= 5 and len(word) >= len(short) + 2 and short[0] == word[0]
            and _is_subsequence(short, word))


def _edit_distance_at_most(a: str, b: str, limit: int) -> bool:
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def column_kind(values, skip_errors: bool = True) -> str:
    """number | date | text | empty, by the majority of non-blank cells (and, with `skip_errors`,
    non-error cells: `#N/A` in a column of amounts does not make it text)."""
    counts = Counter()
    for v in values:
        if v is None or (isinstance(v, str) and not v.strip()) or (skip_errors and is_error(v)):
            continue
        if isinstance(v, bool):
            counts["text"] += 1
        elif isinstance(v, (int, float)):
            counts["number"] += 1
        elif isinstance(v, (date, datetime)):
            counts["date"] += 1
        else:
            counts["text"] += 1
    return counts.most_common(1)[0][0] if counts else "empty"


def header_words(header: str) -> list[str]:
    """The words of a header without units in parentheses or brackets (`Amt ($)` -> ['amt'])."""
    stripped = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", " ", str(header))
    return [w for w in words(stripped) if w not in ("of", "no", "nr")] or words(header)


@dataclass(frozen=True)
class ValueMention:
    column: int
    value: str          # the cell value as the table holds it
    span: tuple[int, int]
    score: float
    word: str = ""      # for a word of a value: the word, as the request spells it
    shared: bool = False    # other values of the column hold the word too ("cable" in two items)


@dataclass
class Linking:
    """The request's evidence for each column: header scores, value mentions and column kinds."""
    header_scores: dict[int, float] = field(default_factory=dict)
    header_spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    values: list[ValueMention] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    texts: dict[int, dict[str, str]] = field(default_factory=dict)   # text columns' values, folded -> held
    percent: set[int] = field(default_factory=set)     # numeric columns whose cells were typed as percents

    def score(self, column: int) -> float:
        value = max((m.score for m in self.values if m.column == column), default=0.0)
        return self.header_scores.get(column, 0.0) + 0.5 * value

    def named(self) -> list[int]:
        """Columns the request names by header, in the order it names them."""
        return sorted(self.header_scores, key=lambda c: self.header_spans[c])

    def fits(self, column: int, need: str | None) -> bool:
        kind = self.kinds[column] if 0 <= column < len(self.kinds) else "empty"
        if need is None or kind == "empty":
            return True
        if need == "number":
            return kind in ("number", "date")
        if need == "strict-number":
            return kind == "number"
        return kind == need

    def fitting(self, need: str | None = None) -> list[int]:
        """Columns of the needed kind, the ones the request is most about first."""
        columns = [c for c in range(len(self.kinds)) if self.fits(c, need) and self.kinds[c] != "empty"]
        return sorted(columns, key=lambda c: -self.score(c))

    def best_column(self, need: str | None = None, exclude: frozenset[int] = frozenset()) -> int | None:
        """The column the request is most about among those of the needed kind; when the request
        links none of them, the only column of that kind; else None."""
        fitting = [c for c in range(len(self.kinds)) if c not in exclude and self.fits(c, need)
                   and self.kinds[c] != "empty"]
        scored = [c for c in fitting if self.score(c) > 0]
        if scored:
            return max(scored, key=lambda c: (self.score(c), -self.header_spans.get(c, (0, 0))[0]))
        return fitting[0] if len(fitting) == 1 else None


def link(request: str, table: Table | None, percent_columns: set[int] | None = None,
         semantic: bool = True) -> Linking:
    linking = Linking()
    if table is None or not table.header:
        return linking
    folded = fold(request)
    request_words = words(request)
    request_singulars = [singular(w) for w in request_words]
    linking.kinds = [column_kind(table.column(c)) for c in range(table.n_cols)]
    linking.percent = set(percent_columns or ())
    for c, header in enumerate(table.header):
        score, span = _header_score(str(header), folded, request_words, request_singulars)
        if score > 0:
            linking.header_scores[c] = score
            linking.header_spans[c] = span
    _drop_nested_headers(linking)
    if semantic:
        _add_synonyms(folded, request_words, table, linking)
    _add_units(request, table, linking)
    linking.texts = text_values(table, linking.kinds)
    linking.values = _value_mentions(folded, request_words, table, linking.kinds, request, linking.texts)
    return linking


def _add_synonyms(folded: str, request_words: list[str], table: Table, linking: Linking) -> None:
    """Columns the request names by another word: the sentence encoder's similarity between the
    request's words (and word pairs) and each header, for headers the request does not spell. Only
    a header that is the closest one to some word of the request gets a score."""
    content = [w for w in request_words if w not in _STOPWORDS and len(w) >= 3 and not w.isdigit()]
    phrases = list(dict.fromkeys(content + [f"{a} {b}" for a, b in zip(content, content[1:])]))
    unnamed = [c for c in range(table.n_cols) if c not in linking.header_scores and str(table.header[c]).strip()]
    if not phrases or not unnamed:
        return
    headers = [" ".join(header_words(str(table.header[c]))) or str(table.header[c]) for c in range(table.n_cols)]
    vectors = phrase_vectors(phrases + headers)
    similarity = vectors[:len(phrases)] @ vectors[len(phrases):].T
    for p in range(len(phrases)):
        c = int(similarity[p].argmax())
        value = float(similarity[p, c])
        if c in unnamed and value > SEMANTIC_FLOOR:
            score = min(SEMANTIC_CAP, SEMANTIC * (value - SEMANTIC_FLOOR))
            if score > linking.header_scores.get(c, 0.0):
                linking.header_scores[c] = score
                linking.header_spans[c] = _word_span(folded, phrases[p].split()[0])


def _add_units(request: str, table: Table, linking: Linking) -> None:
    """A currency or percent sign written with the request's number points at the column whose
    header carries that unit (or, for %, whose cells are percents)."""
    for symbol, names in _UNITS.items():
        if not re.search(re.escape(symbol) + r"\s?\d|\d\s?" + re.escape(symbol), request):
            continue
        for c, header in enumerate(table.header):
            unit = re.findall(r"\(([^()]*)\)", str(header))
            carries = any(any(n in fold(u) for n in names) for u in unit) or (symbol == "%" and (
                c in linking.percent or "%" in str(header)))
            if carries and linking.kinds[c] in ("number", "empty"):
                linking.header_scores[c] = linking.header_scores.get(c, 0.0) + UNIT
                linking.header_spans.setdefault(c, (len(request), len(request)))


def _header_score(header: str, folded: str, request_words: list[str], request_singulars: list[str]):
    phrase = fold(re.sub(r"\([^()]*\)", " ", header)).strip(" .?:#%")
    if len(phrase) >= 2:
        match = re.search(r"(?<![^\W_])" + re.escape(phrase) + r"s?(?![^\W_])", folded)
        if match:
            return HEADER_PHRASE + len(phrase) / 100, match.span()
    best, span = 0.0, (0, 0)
    hwords = header_words(header)
    for hw in hwords:
        hs = singular(hw)
        for i, (rw, rs) in enumerate(zip(request_words, request_singulars)):
            if rw in _STOPWORDS and rs != hs:
                continue
            if len(hs) >= 2 and (rs == hs or rw == hw):
                score = HEADER_WORD
            elif _abbreviates(hw, rw) or _abbreviates(hs, rs):
                score = HEADER_ABBREVIATION
            elif len(hs) >= 5 and rs[:1] == hs[:1] and _edit_distance_at_most(rs, hs, 1 if len(hs) < 8 else 2):
                score = HEADER_TYPO
            else:
                continue
            if score > best:
                best, span = score, _word_span(folded, rw)
    if best and len(hwords) > 1:
        best += 0.25 * sum(1 for hw in hwords if singular(hw) in request_singulars) - 0.25
    if best and _IDENTIFIER.search(header) and not _IDENTIFIER_WORDS.search(folded):
        best = IDENTIFIER_ENTITY    # "orders" names the table's records, not the `Order ID` column
    return best, span


def _word_span(folded: str, word: str) -> tuple[int, int]:
    match = re.search(r"(?<![^\W_])" + re.escape(word) + r"(?![^\W_])", folded)
    return match.span() if match else (0, 0)


def _drop_nested_headers(linking: Linking) -> None:
    """Of two headers matched at the same words ("Time" and "Avg. Time"), the longer match wins."""
    spans = linking.header_spans
    for c in list(spans):
        a, b = spans[c]
        if any(d != c and spans[d][0] <= a and b <= spans[d][1] and spans[d][1] - spans[d][0] > b - a
               and linking.header_scores[d] >= linking.header_scores[c] for d in spans):
            del linking.header_scores[c], linking.header_spans[c]


def _value_mentions(folded: str, request_words: list[str], table: Table, kinds: list[str],
                    request: str = "", texts: dict[int, dict[str, str]] | None = None) -> list[ValueMention]:
    """Values of the text columns that the request names: whole (as a run of its words, or inside the
    request for text without spaces such as 上海), by a distinctive word of a short value, by a capital
    letter code ("an F"), or by an everyday word for a code ("women" -> F). Set lookups over the
    request's word runs, so a column of a thousand distinct values costs a thousand lookups."""
    texts = texts if texts is not None else text_values(table, kinds)
    located = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[^\W_]+", folded)]
    runs: dict[str, tuple[int, int]] = {}
    for i in range(len(located)):
        for j in range(i, min(i + MAX_RUN_WORDS, len(located))):
            runs.setdefault(" ".join(w for w, _, _ in located[i:j + 1]), (located[i][1], located[j][2]))
    request_set = set(request_words) | {singular(w) for w in request_words}
    word_columns: dict[str, set[int]] = {}
    for c, seen in texts.items():
        for f in seen:
            for w in _value_words(f):
                word_columns.setdefault(w, set()).add(c)
    mentions = []
    for c, seen in texts.items():
        for f, value in seen.items():
            key = " ".join(_value_words(f))
            span = runs.get(key) if key and (len(key) >= 2 or not key.isalpha()) else None
            if span is None and not key.isascii() and len(f) >= 2 and f in folded:
                start = folded.index(f)
                span = (start, start + len(f))
            if span is not None:
                mentions.append(ValueMention(c, value, span, VALUE_EXACT + len(f) / 100))
                continue
            value_words = _value_words(f)
            for w in value_words if 1 < len(value_words) <= MAX_NAME_WORDS else ():
                if (len(w) >= 3 and not w.isdigit() and w not in _STOPWORDS
                        and (w in request_set or singular(w) in request_set) and len(word_columns.get(w, ())) == 1):
                    holders = sum(1 for other in seen if w in _value_words(other))
                    span = _word_span(folded, w if w in request_set else singular(w))
                    mentions.append(ValueMention(c, value, span, VALUE_WORD, folded[span[0]:span[1]], holders > 1))
                    break
        for f, value in seen.items():       # a one-letter code ("an F", "D and F students") written as a capital
            if len(f) == 1 and f.isalpha() and len(seen) <= 12 and value.upper() not in ("A", "I"):
                match = re.search(r"(?<![^\W_])" + re.escape(value.upper()) + r"(?![^\W_'’])", request)
                if match:
                    mentions.append(ValueMention(c, value, match.span(), VALUE_EXACT))
        if len(seen) <= 4:
            codes = {f: value for f, value in seen.items() if len(f) <= 6}
            for rw in request_words:
                code = next((code for code in _CODED.get(rw, ()) if code in codes), None)
                if code is not None:
                    mentions.append(ValueMention(c, codes[code], _word_span(folded, rw), VALUE_CODED))
    return _best_per_span(mentions)


@lru_cache(maxsize=65536)
def _value_words(folded_value: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[^\W_]+", folded_value))


def text_values(table: Table, kinds: list[str]) -> dict[int, dict[str, str]]:
    """For each text column, its distinct values: folded -> as the table holds it (first seen)."""
    texts: dict[int, dict[str, str]] = {}
    for c in range(table.n_cols):
        if kinds[c] != "text":
            continue
        seen: dict[str, str] = {}
        for v in table.column(c):
            if isinstance(v, str) and v.strip() and not is_error(v):
                seen.setdefault(fold(v), v.strip())
        texts[c] = seen
    return texts


def _wordlike(text: str) -> bool:
    return bool(re.fullmatch(r"[\w .&'/-]*", text)) and text[:1].isalnum() and text[-1:].isalnum()


def _best_per_span(mentions: list[ValueMention]) -> list[ValueMention]:
    """One value per stretch of the request: the longest, best-scored one ("Closed Won" over "Won")."""
    mentions = sorted(mentions, key=lambda m: (-(m.span[1] - m.span[0]), -m.score))
    kept: list[ValueMention] = []
    for m in mentions:
        if not any(k.span[0] <= m.span[0] and m.span[1] <= k.span[1] and (k.span != m.span or k.column == m.column)
                   for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: m.span)
