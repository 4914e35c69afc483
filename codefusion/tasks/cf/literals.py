"""Literal copying for the CF task: numbers and text of a request become placeholders.

A diffusion decoder writes tokens from a fixed vocabulary, so it cannot reliably spell
`GreaterThan(2305)` or `TextEquals(選必)` on its own: it tends to write a frequent nearby token
instead. We therefore take the literals out of the problem:

    request  "Colour cells between 400 and $800 in red"
    source   "Colour cells between <NUM0> and <NUM1> in red"       (what the encoder sees)
    target   "Between(<NUM0>, <NUM1>)"                              (what the model learns)
    output   "Between(<NUM0>, <NUM1>)"  --restore-->  "Between(400, 800)"

`mask_request` finds the literals (`extract_literals`) and numbers them; `mask_target` replaces
the gold rule's literals that equal an extracted one (a gold literal not in the request stays as
it is, so noisy records still train); `restore` puts the request's spelling back after generation.

Placeholder numbering follows salience, not position: `<NUM0>` is the number most likely to be the
rule's literal ("greater than 437" beats "sheet 2019"), so the model's habit of writing `<NUM0>` is
right most of the time. Ties keep request order, so "between 610 and 550" gives NUM0=610, NUM1=550.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# placeholders per kind; the code tokenizer reserves <NUM0>..<NUM7> and <STR0>..<STR3> (tokenizer.py)
MAX_SLOTS = {"NUM": 8, "STR": 4}
PLACEHOLDER = re.compile(r"<(NUM|STR)(\d+)>")


@dataclass(frozen=True)
class Literal:
    """One literal found in a request.

    kind: "NUM" or "STR"; value: its spelling inside a rule ("1000" for "1,000", "800" for "$800",
    "In Progress" for '"In Progress"'); start/end: the span replaced in the request;
    score: salience (higher = more likely the rule's literal); slot: "<NUM0>" once numbered."""
    kind: str
    value: str
    start: int
    end: int
    score: float
    slot: str = ""


@dataclass(frozen=True)
class Masked:
    """A request with its literals replaced; `literals` are the numbered ones, best first per kind."""
    request: str
    text: str
    literals: tuple[Literal, ...]

    def slot_values(self) -> dict[str, str]:
        return {lit.slot: lit.value for lit in self.literals}


# ----------------------------------------------------------------------------------------------
# vocabulary that steers extraction

_COMPARE_CUES = re.compile(
    r"\b(greater|more|larger|bigger|higher|less|lower|smaller|fewer|above|below|over|under|exceed\w*|"
    r"at least|at most|between|equal\w*|equals?|is|are|was|than|top|bottom|first|last|highest|lowest|"
    r"largest|smallest|biggest|best|worst|min\w*|max\w*|upto|up to|beyond|within|not|and|to|from|"
    r"value|values|amount|score|number|exactly|of)\b|[<>=≥≤]", re.I)
_PLACE_WORDS = re.compile(
    r"\b(sheet|sheets|worksheet|tab|table|page|row|rows|column|col|cells?|file|workbook|"
    r"book|version|qtr|quarter|fy|class|level|room|building|floor|week|part|section|"
    r"chapter|figure|fig|#)[\s\-_.:#]*$", re.I)
_PLACE_AFTER = re.compile(r"\s*(tab|sheet|worksheet|workbook|file|table)\b", re.I)
_CELL_REF = re.compile(r"(?<![A-Za-z0-9_])\$?[A-Za-z]{1,3}\$?\d{1,7}(?![A-Za-z0-9_])")
_RANK_GLUED = re.compile(r"\b(top|bottom)(\d+)(%?)", re.I)

_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_,$€£¥₹])(?:(?<!\.)|(?<=\.\.))(?<![A-Za-z]-)"
    r"(?P<sign>[-−])?(?P<cur>[$€£¥₹])?(?P<sign2>-)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)"
    r"(?P<mult>\s?(?:k|K|thousand|lakhs?|lacs?|crores?|million|mn|billion|bn)(?![A-Za-z]))?"
    r"(?P<pct>\s?%)?"
    r"(?=rs\b|Rs\b|[^A-Za-z0-9_]|$)")

_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                 "twenty five": 25, "fifty": 50, "hundred": 100}
_WORD_NUMBER = re.compile(
    r"\b(?P<pre>top|bottom|first|last|highest|lowest|largest|smallest|best|worst|than|to|over|under|"
    r"above|below|least|most|equals?|is|are|with|all)\s+"
    r"(?P<word>twenty five|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|fifty|hundred)\b"
    r"|\b(?P<word2>one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|fifty)"
    r"\s+(?=(?:highest|lowest|largest|smallest|biggest|greatest|least|best|worst|top|bottom)\b)", re.I)

_QUOTED = re.compile(r"(?P<q>[\"“”«„])(?P<body>[^\"“”«»„\n]{1,80})[\"“”»]"
                     r"|(?<![A-Za-z0-9])(?P<sq>['‘’])(?P<sbody>[^'‘’\n]{1,80})['‘’](?![A-Za-z0-9])")

# "contains X", "equal to X", "which are X", "that say X", "named X", "start with X", ...
_VERB_CUE = re.compile(
    r"(?:\b(?:do(?:es)?\s+not\s+|don'?t\s+|doesn'?t\s+|not\s+)?(?:"
    r"contains?|containing|contained|includes?|including|mentions?|mentioning|"
    r"(?:is|are)\s+either|isn'?t|aren'?t|"
    r"(?:is|are|be|being|was|were)?\s*equal(?:s)?(?:\s+to)?|equals|is|are|was|were|reads?|reading|"
    r"says?|saying|named|called|labell?ed|marked(?:\s+as)?|set\s+to|listed\s+as|showing|(?:that|which)\s+shows?|"
    r"other\s+than|except(?:\s+for)?|apart\s+from|anything\s+but|different\s+from|free\s+of|lacking|"
    r"without|missing\s+the\s+text|like|precisely|exactly|one\s+of|any\s+of|something\s+with|"
    r"suffixed\s+with|prefixed\s+with|"
    r"(?:starts?|begins?|starting|beginning|started)\s+with|(?:ends?|ending|ended)\s+(?:with|in)|"
    r"matche?s?|matching|either)\s+|(?<![<>!=])=+\s*)", re.I)
# Cue phrases that may follow another cue ("is starting with X", "is equal to X").
_CHAIN = re.compile(r"(?:(?:starts?|begins?|starting|beginning|ends?|ending|suffixed|prefixed)\s+(?:with|in)|"
                    r"equal(?:s)?(?:\s+to)?|exactly|precisely|marked(?:\s+as)?|labell?ed|set\s+to|listed\s+as|"
                    r"containing|including|like|other\s+than|free\s+of|lacking|without|except(?:\s+for)?)\s+", re.I)
# Words that may sit between a cue and its literal ("is not X", "is one of X", "equal to either X").
_CONNECTOR = re.compile(r"(?:not|either|one\s+of|any\s+of|something\s+(?:with|like|other\s+than)|anything\s+but|"
                        r"the\s+(?:value|text|word|string|letters?)|a\s+value(?:\s+of)?|value(?:\s+of)?)\s+")
# (not after a hyphen: "colour-code entire rows" is a verb, not "the code entire")
_NOUN_CUE = re.compile(
    r"\b(?:the\s+)?(?<!-)(?:word|text|string|phrase|label|entry|value|status|name|letter|code|id|prefix|suffix)(?:s|es)?"
    r"(?:\s+(?:is|of|as|id))?\s+", re.I)
_HAVE_IN = re.compile(r"\b(?:have|has|having|with|contain|contains)\s+"
                      r"(?P<x>(?:(?!\b(?:have|has|having|with|that|which)\b).){1,60}?)\s+in\s+"
                      r"(?:them|it|their\s+(?:value|values|text|name)|the\s+(?:cell|cells|value|text))\b", re.I)
_STOP = re.compile(
    r"\s+(?:in|on|from|for|of|at|within|across|to|with|using|and|or|but|as|by|if|where|when|then|"
    r"so|into|under|inside|via|through|cells?|rows?|column|col|values?|entries|please|conditional|"
    r"formatting|format|formatted|highlight(?:ed)?|colou?r(?:ed)?|should|must|will|need|is|are|stand\s+out|"
    r"pls|thanks|get|gets|so|then|bold|italics?|somewhere|anywhere|"
    r"(?-i:(?:light\s+|dark\s+|bright\s+)?(?:red|green|yellow|orange|blue|purple|pink|grey|gray|gold|teal)\s*$)|"
    r"(?:light\s+|dark\s+|bright\s+)?(?:red|green|yellow|orange|blue|purple|pink|grey|gray|gold|teal|black|white)"
    r"\s+(?:fill|text|font|background|shading|border|colou?r|highlight)|"
    r"(?:light|dark|bright)\s+(?:red|green|yellow|orange|blue|purple|pink|grey|gray))\b|"
    r"\s*->|\s*[,.;:!?()\[\]]|\s+-\s|$", re.I)
_FUNCTION_WORD = re.compile(r"^(?:in|on|for|of|to|with|and|or|from|at|by|as|if|so|out|into|onto|off|up|down)$")
_LEADING_FUNCTION_WORD = re.compile(r"^(?:in|on|for|of|to|with|and|or|from|at|by|as|if|so|out|into|onto|off|"
                                    r"up|down|than|then|a|an|the|its|their|his|her)\b")   # lower case only
_SYMBOL_START = re.compile(r"^[<>=≥≤!]")
# Phrases after a cue that are rule vocabulary or styling, never a text literal.
_NOT_A_LITERAL = re.compile(
    r"^(?:not|no|greater|grater|more|less|fewer|larger|smaller|bigger|higher|lower|above|below|over|under|"
    r"between|equal|exactly|than|blank|blanks|empty|missing|null|error|errors|duplicate|duplicates|"
    r"duplicated|repeated|unique|distinct|top|bottom|highest|lowest|"
    r"same|any|all|each|every|neither|both|some|zero|positive|negative|"
    r"today|yesterday|tomorrow|due|overdue|past|next|last|within|"
    r"bold|italic|"
    r"underlined|highlighted|coloured|colored|shaded|filled|formatted|marked|flagged|"
    r"average|mean|median|max|min|maximum|minimum|upto|up|falling|ranked|rank|"
    r"dates?|numbers?|values?|cells?|rows?|columns?|numeric|odd|even|starting|beginning|ending|suffixed|"
    r"prefixed|something|anything|like|precisely|beneath|outside|inside|beyond|strictly|past|short\s+of|"
    r"north\s+of|south\s+of|free\s+of|lacking|without|missing|different|unequal|other|except|"
    r"start|starts|begin|begins|end|ends|contain\w*|include\w*|is|are|was|were|be|has|have|equals?|"
    r"match\w*|say\w*|read\w*|called|named|"
    r"which|what|where|who|whose|how|when|you|we|my|your|our|set|made|make)(?=\s|$)", re.I)
_PRONOUN = re.compile(r"^(?:a|an|the|i|it|this|that|these|those|them|there)(?=\s|$)")
_NUMBERISH = re.compile(r"[-+]?[$€£¥₹]?\d[\d.,]*\s*(?:%|k|percent|days?|lakhs?|rs)?", re.I)
_NOT_A_LITERAL_INSIDE = re.compile(r"\b(than|between|greater|less|above|below)\b", re.I)


# ----------------------------------------------------------------------------------------------
# numbers

_MULTIPLIERS = {"k": 10**3, "thousand": 10**3, "lakh": 10**5, "lakhs": 10**5, "lac": 10**5, "lacs": 10**5,
                "crore": 10**7, "crores": 10**7, "million": 10**6, "mn": 10**6, "billion": 10**9, "bn": 10**9}


def number_spelling(text: str) -> str | None:
    """The rule spelling of a number as written in a request ("1,000" -> "1000", "1e3" -> "1000",
    ".5" -> "0.5", "5k" -> "5000", "10 lakhs" -> "1000000"); None when it is not a number.
    Digits are kept exactly otherwise (2305 stays 2305, 0.90 stays 0.90)."""
    raw = text.strip().replace(",", "").replace("−", "-")
    raw = re.sub(r"^(-?)[$€£¥₹]", r"\1", raw)
    raw = re.sub(r"^[$€£¥₹](-)", r"\1", raw)
    mult = re.search(r"\s?([A-Za-z]+)$", raw)
    factor = None
    if mult and mult.group(1).lower() in _MULTIPLIERS and not re.fullmatch(r"-?\d*\.?\d+[eE]", raw[:mult.start(1) + 1]):
        factor = _MULTIPLIERS[mult.group(1).lower()]
        raw = raw[:mult.start()].strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if factor:
        value *= factor
    elif "e" not in raw.lower():
        out = raw
        if out.startswith("."):
            out = "0" + out
        elif out.startswith("-."):
            out = "-0" + out[1:]
        return out
    out = format(value.normalize(), "f")
    return out


def numeric_value(spelling: str) -> Decimal | None:
    try:
        value = Decimal(spelling)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return value if value.is_finite() else None


def _context_score(request: str, start: int, end: int) -> float:
    """Salience of a number: comparison cues just before it raise it, place names ("sheet 2019",
    "row 3", "column 2") lower it, and so do year-like numbers and cell ranges around it."""
    before = request[max(0, start - 28):start]
    after = request[end:end + 12]
    score = 1.0
    if _PLACE_WORDS.search(before):
        score -= 2.5
    elif _COMPARE_CUES.search(before):
        score += 2.0
    if _PLACE_AFTER.match(after):
        score -= 2.5
    if re.match(r"\s*(%|percent|per\s*cent|pct)", after, re.I):
        score += 1.0
    if re.match(r"\s*(st|nd|rd|th)\b", after):
        score -= 0.5
    if re.match(r"[\-–/]\d", after) or re.search(r"\d[\-–/]$", before):
        score -= 1.0            # a date or code such as 2019-20, 3/4
    if re.match(r"\s*(to|-|–|:)\s*\$?[A-Za-z]{1,3}\d", after) or re.search(r"[A-Za-z]{1,3}\d+\s*(to|-|:)\s*$", before):
        score -= 2.0            # part of a range written loosely: "B 104", "4 to B10"
    return score


def _numbers(request: str) -> list[Literal]:
    found = []
    taken = [m.span() for m in _CELL_REF.finditer(request)
             if not _RANK_GLUED.fullmatch(m.group(0))]
    for m in _NUMBER.finditer(request):
        start, end = m.span()
        if any(a <= start < b for a, b in taken):
            continue
        sign = "-" if (m.group("sign") or m.group("sign2")) else ""
        if sign and start > 0 and request[start - 1] not in " \t([:=<>":
            sign = ""           # "10%-22%", "2015-2016": a dash, not a minus
            start += 1
        spelling = number_spelling(sign + (m.group("num")) + (m.group("mult") or ""))
        if spelling is None:
            continue
        pct_end = m.end("pct") if m.group("pct") else None
        span_end = m.start("pct") if pct_end else end
        score = _context_score(request, start, end)
        if m.group("cur"):
            score += 0.5
        found.append(Literal("NUM", spelling, start, span_end, score))
    for m in _RANK_GLUED.finditer(request):          # "Top1", "bottom10%"
        found.append(Literal("NUM", m.group(2), m.start(2), m.end(2), 3.0))
    for m in _WORD_NUMBER.finditer(request):          # "top ten", "three highest"
        word = (m.group("word") or m.group("word2")).lower()
        span = m.span("word") if m.group("word") else m.span("word2")
        pre = (m.group("pre") or "").lower()
        score = 1.0 if pre in ("is", "are", "with", "all") else 2.5
        found.append(Literal("NUM", str(_NUMBER_WORDS[word]), span[0], span[1], score))
    return found


# ----------------------------------------------------------------------------------------------
# text

def _clean_text(value: str) -> str:
    return value.strip().strip("\"'“”‘’«»").strip()


def _cue_phrase(request: str, at: int, strict: bool = True, values: set[str] = frozenset()) -> tuple[int, int] | None:
    """The phrase starting at `at` up to the first stop word or punctuation; None if unfit.
    A phrase that starts with a lower-case function word ("from range", "in a column") is not a
    literal, unless it is one of the table's values; "In Progress"/"On Hold" are."""
    for _ in range(4):   # chained cue words: "is not X", "is one of X", "equal to the text X"
        m = _CONNECTOR.match(request, at) or _CHAIN.match(request, at)
        if not m or m.end() == at:
            break
        at = m.end()
    prefix = re.match(r"(?:the\s+)?(?:letters?|words?|text|strings?|characters?|phrases?|prefix|suffix)\s+(?=\S)",
                      request[at:], re.I)
    if prefix:
        at += prefix.end()
        strict = False          # "the letter I", "the word are": whatever follows is the literal
    rest = request[at:]
    if not rest or rest[0] in "\"'“‘«":       # quoted literals are found on their own
        return None
    stop = _STOP.search(rest, 1)
    end = at + (stop.start() if stop else len(rest))
    phrase = request[at:end].strip()
    if not phrase or len(phrase.split()) > 6 or _FUNCTION_WORD.match(phrase) or _NOT_A_LITERAL_INSIDE.search(phrase):
        return None
    if _SYMBOL_START.match(phrase) or (_LEADING_FUNCTION_WORD.match(phrase) and phrase.lower() not in values):
        return None
    words = phrase.split()
    if re.fullmatch(r"[-+$]?\d[\d.,]*", words[0]) and any(w.islower() for w in words[1:]):
        return None             # "1 while 10 or less": a number and more words
    if words[0][:1].islower() and any(re.fullmatch(r"[-+$]?\d[\d.,%]*", w) for w in words[1:]):
        return None             # "exceeding 150": a condition with a number, not a text literal
    all_caps = re.fullmatch(r"[A-Z0-9]{2,5}", phrase) is not None     # "IT", "HR", "EUR" are values
    if strict and (_NOT_A_LITERAL.match(phrase) or _PRONOUN.match(phrase)) and not all_caps \
            and not re.fullmatch(r"[A-Z]", phrase):
        return None
    if number_spelling(phrase) is not None or _NUMBERISH.fullmatch(phrase):
        return None             # a number: _numbers finds it
    if re.fullmatch(r"\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?", phrase) and not re.fullmatch(r"[A-Z]\d?", phrase):
        return None             # a cell reference, not a value
    return at, at + len(request[at:end].rstrip())


def _continued(request: str, end: int, values: set[str]) -> list[tuple[int, int]]:
    """Further alternatives after a literal: "equal to p or ul", "is Done, Closed or Cancelled"."""
    spans = []
    while True:
        m = re.match(r"\s*(?:,\s*(?:or|and)?|\s(?:or|and|nor))(?:\s+else)?\s+", request[end:], re.I)
        if not m:
            return spans
        span = _cue_phrase(request, end + m.end(), values=values)
        if not span or len(request[span[0]:span[1]].split()) > 3:
            return spans
        spans.append(span)
        end = span[1]


def _texts(request: str, header: list[str], values: set[str]) -> list[Literal]:
    found: list[Literal] = []
    header_lower = {h.strip().lower() for h in header if h}
    values_lower = {v.lower() for v in values}

    def score_of(value: str, start: int, base: float) -> float:
        score = base
        before = request[max(0, start - 24):start]
        if value.lower() in values_lower:
            score += 1.0
        if value.lower() in header_lower:
            score -= 2.5
        if re.fullmatch(r"(?:light |dark |bright )?(?:red|green|yellow|orange|blue|purple|pink|grey|gray|black|white|gold)",
                        value, re.I):
            score -= 1.0        # more often the requested colour than a cell value
        if re.search(r"\b(sheet|sheets|worksheet|tab|workbook|file|column|col|columns|field|header|in|on)"
                     r"[\s\-_:]*[\"“'‘]?$", before, re.I):
            score -= 2.0
        return score

    for m in _QUOTED.finditer(request):
        body_group = "body" if m.group("body") is not None else "sbody"
        body = m.group(body_group)
        if not body.strip():
            continue
        a, b = m.span(body_group)
        found.append(Literal("STR", body.strip(), a + (len(body) - len(body.lstrip())),
                             b - (len(body) - len(body.rstrip())), score_of(body.strip(), m.start(), 3.0)))
    for m in _HAVE_IN.finditer(request):
        phrase = re.sub(r"\s+(?:somewhere|anywhere)$", "", m.group("x").strip(), flags=re.I)   # "have X somewhere in them"
        if phrase and number_spelling(phrase) is None and not _FUNCTION_WORD.match(phrase) and \
                not re.match(r"(?:a\s+)?(?:value|values|the|an?\s)\b", phrase, re.I):
            phrase = _clean_text(phrase)
            a = request.index(phrase, m.start("x"))
            found.append(Literal("STR", phrase, a, a + len(phrase), score_of(phrase, a, 3.0)))
    for cue, base in ((_VERB_CUE, 2.5), (_NOUN_CUE, 1.5)):
        for m in cue.finditer(request):
            span = _cue_phrase(request, m.end(), values=values_lower)
            if not span:
                continue
            for a, b in [span] + _continued(request, span[1], values_lower):
                found.append(Literal("STR", request[a:b], a, b, score_of(request[a:b], a, base)))
    # runs of words with non-ASCII letters ("日", "選必", "Café au lait") are almost always values
    for m in re.finditer(r"[^\s\"'“”‘’(),:;]*[^\x00-\x7f\s\"“”‘’«»–—…·•][^\s\"'“”‘’(),:;]*"
                         r"(?:\s+[^\s\"'“”‘’(),:;]*[^\x00-\x7f\s\"“”‘’«»–—…·•][^\s\"'“”‘’(),:;]*)*", request):
        value = m.group(0).strip(".")
        if value and not re.fullmatch(r"[$€£¥₹%°±×÷≤≥−]+", value):
            found.append(Literal("STR", value, m.start(), m.start() + len(value), score_of(value, m.start(), 2.0)))
    return found


# ----------------------------------------------------------------------------------------------
# public API

def extract_literals(request: str, header: list[str] | None = None, values: set[str] | None = None) -> list[Literal]:
    """Every literal of a request, overlaps resolved (quoted > cue text > non-ASCII > number;
    a number inside a chosen text literal is part of it), in request order, unnumbered.
    `header`/`values` (the table's column names and cell texts) steer salience when given."""
    if not request:
        return []
    texts = _texts(request, list(header or []), set(values or ()))
    numbers = _numbers(request)
    chosen: list[Literal] = []

    def overlaps(lit):
        return any(lit.start < c.end and c.start < lit.end for c in chosen)

    # highest score first among texts; a text literal that is a number is left to _numbers
    for lit in sorted(texts, key=lambda l: (-l.score, l.start, -(l.end - l.start))):
        if not overlaps(lit):
            chosen.append(lit)
    for lit in sorted(numbers, key=lambda l: (-l.score, l.start)):
        if not overlaps(lit):
            chosen.append(lit)
    return sorted(chosen, key=lambda l: l.start)


def mask_request(request: str, header: list[str] | None = None, values: set[str] | None = None,
                 max_slots: dict[str, int] | None = None) -> Masked:
    """Replace the literals of a request by numbered placeholders (best first per kind)."""
    request = request or ""
    literals = extract_literals(request, header, values)
    limits = max_slots or MAX_SLOTS
    numbered: list[Literal] = []
    for kind in ("NUM", "STR"):
        ranked = sorted((l for l in literals if l.kind == kind), key=lambda l: (-_tier(l.score), l.start))
        for i, lit in enumerate(ranked[:limits[kind]]):
            numbered.append(Literal(lit.kind, lit.value, lit.start, lit.end, lit.score, f"<{kind}{i}>"))
    text = request
    for lit in sorted(numbered, key=lambda l: -l.start):
        text = text[:lit.start] + lit.slot + text[lit.end:]
    return Masked(request, text, tuple(sorted(numbered, key=lambda l: l.slot)))


def _tier(score: float) -> int:
    """Scores in coarse tiers so near-equal literals keep request order (Between(610, 550))."""
    return int(score // 1.5)


def literal_matches(gold: str, lit: Literal) -> bool:
    """Does a gold rule literal (its spelling inside the rule) equal an extracted literal?"""
    if gold == lit.value:
        return True
    if lit.kind == "NUM":
        a, b = numeric_value(gold), numeric_value(lit.value)
        return a is not None and a == b
    return gold.casefold() == lit.value.casefold()


def slot_for(gold: str, masked: Masked) -> str | None:
    """The placeholder standing for a gold literal: an exact spelling match first, then by
    value (numbers) or case-insensitively (text); None when the request does not contain it."""
    for lit in masked.literals:
        if gold == lit.value:
            return lit.slot
    for lit in masked.literals:
        if literal_matches(gold, lit):
            return lit.slot
    return None


def restore(code: str, masked: Masked | dict[str, str], quote=None) -> str:
    """Put literals back into generated code. `quote(value) -> str` spells a text literal the way
    the rule language needs it (e.g. quoted when it holds a comma); an unknown placeholder is left
    in place so the caller's parser rejects the candidate instead of us inventing a value."""
    values = masked.slot_values() if isinstance(masked, Masked) else dict(masked)

    def put(m):
        slot = m.group(0)
        if slot not in values:
            return slot
        value = values[slot]
        if m.group(1) == "STR" and quote is not None:
            return quote(value)
        return value
    return PLACEHOLDER.sub(put, code)


# ----------------------------------------------------------------------------------------------
# literals inside rule text (gold targets and generated candidates)

def rule_literal_spans(code: str) -> list[tuple[int, int, str]]:
    """(start, end, spelling) of every literal argument in a rule's text, left to right.

    Works on text, not on the AST, because a target with placeholders does not parse. An argument
    is a literal when it is not a nested call, not a column reference (`c[1]`) and not a keyword
    such as a colour or icon-set name of a visual rule. Quotes are part of the span but not of the
    spelling; the `%` of `10%` is outside the span, so `top(<NUM0>%)` keeps the percent."""
    spans: list[tuple[int, int, str]] = []
    if code.lstrip().startswith("="):
        return spans            # formula rules keep their literals inline
    i, n = 0, len(code)
    call_stack: list[str] = []
    while i < n:
        ch = code[i]
        if ch == "(":
            name = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", code[:i])
            call_stack.append(name.group(1) if name else "")
            i += 1
            i = _scan_argument(code, i, call_stack, spans)
            continue
        if ch == ",":
            i += 1
            i = _scan_argument(code, i, call_stack, spans)
            continue
        if ch == ")":
            if call_stack:
                call_stack.pop()
            i += 1
            continue
        if ch in "\"'":
            close = code.find(ch, i + 1)
            i = n if close < 0 else close + 1
            continue
        i += 1
    return spans


_VISUAL = {"colorscale", "databar", "iconset"}


def _scan_argument(code: str, i: int, call_stack: list[str], spans: list) -> int:
    n = len(code)
    while i < n and code[i] == " ":
        i += 1
    if i >= n:
        return i
    if code[i] in "\"'":
        close = code.find(code[i], i + 1)
        if close < 0:
            return n
        if call_stack and call_stack[-1].lower() not in _VISUAL:
            spans.append((i, close + 1, code[i + 1:close]))
        return close + 1
    depth, j = 0, i
    while j < n:
        c = code[j]
        if c in "([":
            depth += 1
        elif c in ")]":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            break
        j += 1
    token = code[i:j].rstrip()
    if not token or "(" in token or re.fullmatch(r"c\[\d+\]", token, re.I):
        return i if "(" in token else j
    if call_stack and call_stack[-1].lower() in _VISUAL:
        return j                # colours, icon-set names: vocabulary, not copied literals
    end = i + len(token)
    if token.endswith("%") and number_spelling(token[:-1]) is not None:
        token, end = token[:-1].rstrip(), i + len(token[:-1].rstrip())
    spans.append((i, end, token))
    return j


def mask_target(code: str, masked: Masked) -> str:
    """The gold rule with each literal that the request contains replaced by its placeholder;
    literals the request does not contain stay as they are."""
    out, last = [], 0
    for start, end, spelling in rule_literal_spans(code):
        slot = slot_for(spelling, masked)
        if slot is None:
            continue
        out.append(code[last:start])
        out.append(slot)
        last = end
    out.append(code[last:])
    return "".join(out)
