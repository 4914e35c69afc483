"""Readings of a request's own words on the user's table, beside the model's samples.

    reader_rules(request, table, context) -> ["TextEquals(c[3], 'Closed Won')", ...]

Each reading is a rule bound to the column the linker chose, with literals from the request or
the table, for the words office requests use most: a value the table holds ("Marcus's deals in
negotiation", "from Weiß AG or Schäfer & Söhne"), everyday words ("negative", "missing", "more than
once", "only once", "errors", "above average", "run out"), ranks ("top 5", "three lowest"),
comparisons ("under 100", "at least 90", "between 20 and 60", "outside 50-300") and visuals
("colour scale", "bars", "traffic lights"), with "except" / "outside" / "not" as NOT. The model
wrote rules of these kinds from its training data; reading them here as well keeps a request whose
words are unambiguous from depending on how a small model spells them. Grounding and ranking
treat them like the model's: they vote where they agree with a sample.
"""
from __future__ import annotations

import re

from cf_rules.paint import column_letter
from cf_rules.printer import quote
from cf_rules.table import Table

from .grounding import Context
from .quantities import Quantity

_NEGATION = re.compile(r"\b(?:except|other than|everything but|anything but|apart from|outside|not|isn't|aren't|"
                       r"wasn't|weren't|don't|doesn't|didn't|never|non-?|without)\b|n't\b", re.I)
_CONTAINS = re.compile(r"\b(?:contain\w*|mention\w*|includ\w*|with \S+ in (?:the|their|its) name|in the name)\b", re.I)
_STARTS = re.compile(r"\b(?:start\w*|begin\w*|prefix\w*)\b", re.I)
_ENDS = re.compile(r"\b(?:end(?:s|ing)?|suffix\w*)\s+(?:in|with)\b", re.I)

_COMPARATORS = (  # (pattern before or around the number, rule), most specific first
    (re.compile(r"(?:at least|or more|or above|and above|and up|or better|or higher|minimum|no less than|≥|>=|\+)", re.I),
     "GreaterThanEqual"),
    (re.compile(r"(?:at most|or less|or below|or lower|or fewer|no more than|maximum|up to|≤|<=)", re.I), "LessThanEqual"),
    (re.compile(r"(?:more than|greater than|greater then|higher than|larger than|bigger than|over|above|exceed\w*|"
                r"tops|after|later than|older than|beyond|mehr als|über|plus de|supérieur\w*|más de|superior\w*|"
                r"大于|高于|超过|>)", re.I), "GreaterThan"),
    (re.compile(r"(?:less than|less then|fewer than|lower than|smaller than|under|below|before|earlier than|"
                r"younger than|shorter than|weniger als|unter|moins de|inférieur\w*|menos de|inferior\w*|"
                r"小于|低于|不到|<)", re.I), "LessThan"),
    (re.compile(r"(?:equal to|equals?|exactly|is|are|of|=)", re.I), "Equals"),
)
_BETWEEN = re.compile(r"\b(?:between|betwen|from)\b", re.I)
_OUTSIDE = re.compile(r"\boutside\b", re.I)
_TOP = re.compile(r"\b(?:top|highest|best|biggest|largest|busiest|most|greatest|max\w*)\b", re.I)
_BOTTOM = re.compile(r"\b(?:bottom|lowest|worst|smallest|least|fewest|min\w*|weakest)\b", re.I)
_VOCABULARY = (  # (pattern, rule template on column {c}, the kind of column it needs)
    (re.compile(r"\b(?:negative|below zero|in the red|refunds?)\b", re.I), "LessThan(c[{c}], 0)", "number"),
    (re.compile(r"\b(?:positive|above zero)\b", re.I), "GreaterThan(c[{c}], 0)", "number"),
    (re.compile(r"\b(?:run out|out of stock|none left|zero stock|no stock|sold out)\b", re.I), "Equals(c[{c}], 0)", "number"),
    (re.compile(r"\b(?:more than once|duplicates?|duplicated|dupes?|repeated|repeats|appear twice|double entr\w*|"
                r"show up on more than one|listed twice|same \w+ more than once)\b", re.I), "Duplicate(c[{c}])", None),
    (re.compile(r"\b(?:only once|unique|only one|just once|distinct|one-off)\b", re.I), "Unique(c[{c}])", None),
    (re.compile(r"\b(?:errors?|#n/a|#div/0!?|divide-by-zero|div/0|broken formulas?)\b", re.I), "Errors(c[{c}])", None),
    (re.compile(r"\b(?:above(?:[- ]the)?[- ](?:class |company |team )?average|above-average|better than average|"
                r"higher than (?:the )?average)\b", re.I), "aboveAverage(c[{c}])", "number"),
    (re.compile(r"\b(?:below(?:[- ]the)?[- ](?:class |company |team )?average|below-average|under the (?:\w+ )?average|"
                r"worse than average|lower than (?:the )?average)\b", re.I), "belowAverage(c[{c}])", "number"),
    (re.compile(r"\b(?:blanks?|empty|missing|no \w+ (?:listed|given|entered)|(?:has|have)n't|skip\w*|left out|"
                r"not filled|unfilled|doesn't have|don't have|without an?)\b", re.I), "Blanks(c[{c}])", None),
    (re.compile(r"\b(?:colou?r[- ]?scale|heat ?map|gradient|colou?r[- ]code)\b", re.I), "ColorScale(c[{c}])", "number"),
    (re.compile(r"\b(?:data ?bars?|bars?)\b", re.I), "DataBar(c[{c}])", "number"),
    (re.compile(r"\btraffic[- ]lights?\b", re.I), "IconSet(c[{c}], 3TrafficLights1)", "number"),
    (re.compile(r"\b(?:four|4)[- ]arrows?\b", re.I), "IconSet(c[{c}], 4Arrows)", "number"),
    (re.compile(r"\b(?:three|3)?[- ]?arrows?\b", re.I), "IconSet(c[{c}], 3Arrows)", "number"),
    (re.compile(r"\b(?:stars?|5 rating|five rating|ratings? icons?)\b", re.I), "IconSet(c[{c}], 5Rating)", "number"),
)
_FILLED = re.compile(r"\b(?:already has|has an?|have an?|filled in|wrote something|written|not blank|non-?blank|"
                     r"not empty|populated|with an? \w+ date)\b", re.I)


def reader_rules(request: str, table: Table, context: Context) -> list[tuple[str, bool]]:
    """(rule, sure) pairs: `sure` is False for a reading put on each column that fits because the
    request links no column (a guess that should not outrank the model's own column)."""
    guesses: set[int] = set()
    out: list[str] = []
    linking = context.linking
    negated = bool(_NEGATION.search(request))
    out += _value_rules(request, context, negated)
    for pattern, template, need in _VOCABULARY:
        if pattern.search(request):
            for column in _columns(linking, "strict-number" if need == "number" else need, guesses):
                rule = template.format(c=column)
                if rule.startswith("Blanks") and _FILLED.search(request):
                    rule = f"NOT({rule})"
                out.append(rule)
    out += _cue_text_rules(request, context, guesses)
    out += _formula_rules(request, table, context)
    numbers = _number_rules(request, context, guesses)
    values = [rule for rule in out if rule.startswith(("Text", "OR(Text", "AND(Text"))]
    if values and numbers and not any(f"c[{c}]" in values[0] for c in guesses):
        out.insert(0, _joined(values[0], numbers[0]))   # "10B kids with a total above 70"
    out += numbers
    guessed = {rule for rule in out if any(f"c[{c}]" in rule for c in guesses)}
    return [(rule, rule not in guessed) for rule in dict.fromkeys(out)]


def _joined(value_rule: str, number_rule: str) -> str:
    """AND of a value reading and a comparison, flattening an AND the value reading already is."""
    if value_rule.startswith("AND("):
        return f"AND({value_rule[4:-1]}, {number_rule})"
    return f"AND({value_rule}, {number_rule})"


def _columns(linking, need, guesses: set[int], most: int = 3) -> list[int]:
    """The linked column; with none linked, the columns that fit (noted in `guesses`), each to get its reading."""
    best = linking.best_column(need)
    if best is not None:
        return [best]
    guessed = linking.fitting(need)[:most]
    guesses.update(guessed)
    return guessed


_CUE_TEXT = re.compile(r"\b(?:start\w*|begin\w*|end(?:s|ing)?(?:\s+(?:in|with))?|contain\w*|mention\w*|includ\w*)"
                       r"(?:\s+(?:with|in))?\s+[\"'“]?([^\s\"'”?,.!]+)", re.I)


def _cue_text_rules(request: str, context: Context, guesses: set[int]) -> list[str]:
    """"SKUs starting EL", "order IDs ending in 7", "comments that mention price": the word after the cue."""
    out = []
    for match in _CUE_TEXT.finditer(request):
        word, cue = match.group(1), match.group(0).lower()
        if word.lower() in ("with", "in", "the", "a", "an"):
            continue
        name = "TextStartsWith" if cue.startswith(("start", "begin")) else \
            "TextEndsWith" if cue.startswith("end") else "TextContains"
        for column in _columns(context.linking, "text", guesses):
            out.append(f"{name}(c[{column}], {quote(word)})")
    return out


_LENGTH = re.compile(r"\b(?:longer|more|over|above|greater|shorter|less|fewer|under|below)\b[^.]*?(\d+)\s*(?:characters|chars|letters)", re.I)
_OVERDUE = re.compile(r"\b(?:overdue|past due|past (?:the|its|their) due date|late (?:tasks|invoices|payments))\b", re.I)
_HALF = re.compile(r"\bhalf (?:of )?(?:the |their |its )?", re.I)


def _formula_rules(request: str, table: Table, context: Context) -> list[str]:
    """Column against column ("final lower than their midterm", "Qty. at or below the reorder level")
    and text length ("comments over 40 characters") as formula rules on the first data row."""
    linking = context.linking
    out = []
    if _OVERDUE.search(request):
        best = linking.best_column("date")
        for column in [best] if best is not None else linking.fitting("date")[:2]:
            cell = f"${column_letter(table, column)}{table.origin[0] + 1}"
            out.append(f'=AND({cell}<>"",{cell}<TODAY())')      # a blank date is not overdue
    length = _LENGTH.search(request)
    if length:
        column = linking.best_column("text")
        if column is not None:
            op = ">" if re.match(r"(?i)longer|more|over|above|greater", length.group(0)) else "<"
            out.append(f"=LEN(${column_letter(table, column)}{table.origin[0] + 1}){op}{length.group(1)}")
        return out
    numeric = [c for c in linking.named() if linking.kinds[c] in ("number", "date") and linking.header_scores[c] >= 2]
    if len(numeric) < 2 or any(q.kind in ("number", "percent") for q in context.quantities):
        return out
    a, b = numeric[:2]
    op = next((op for pattern, name in _COMPARATORS[:4] if pattern.search(request)
               for op in [{"GreaterThanEqual": ">=", "LessThanEqual": "<=", "GreaterThan": ">", "LessThan": "<"}[name]]),
              None)
    if op is None:
        return out
    row = table.origin[0] + 1
    right = f"${column_letter(table, b)}{row}" + ("/2" if _HALF.search(request) else "")
    out.append(f"=${column_letter(table, a)}{row}{op}{right}")
    return out


def _value_rules(request: str, context: Context, negated: bool) -> list[str]:
    mentions = context.linking.values
    if not mentions:
        return []
    by_column: dict[int, list[str]] = {}
    for m in mentions:
        by_column.setdefault(m.column, [])
        if m.value not in by_column[m.column]:
            by_column[m.column].append(m.value)
    test = "TextContains" if _CONTAINS.search(request) else "TextStartsWith" if _STARTS.search(request) else \
        "TextEndsWith" if _ENDS.search(request) else "TextEquals"
    parts = []
    for column, values in by_column.items():
        shared = {m.value: m.word for m in mentions if m.column == column and m.shared}
        partial = {m.value: m.word for m in mentions if m.column == column and m.word}
        leaves = [f"TextContains(c[{column}], {quote(shared[v])})" if v in shared and test == "TextEquals"
                  else f"{test}(c[{column}], {quote(partial.get(v, v) if test != 'TextEquals' else v)})"
                  for v in values]
        leaves = list(dict.fromkeys(leaves))
        parts.append(leaves[0] if len(leaves) == 1 else f"OR({', '.join(leaves)})")
    rules = []
    if len(parts) == 1:
        rules.append(parts[0])
    else:
        connective = "OR" if re.search(r"\b(?:or|either)\b", request, re.I) else "AND"
        rules.append(f"{connective}({', '.join(parts)})")
        rules.extend(parts)
    if negated:
        rules.insert(0, f"NOT({rules[0]})")
    return rules


def _number_rules(request: str, context: Context, guesses: set[int]) -> list[str]:
    numbers = [q for q in context.quantities if q.kind in ("number", "percent", "date", "year", "month")]
    if not numbers:
        return []
    linking = context.linking
    dated = numbers[0].kind in ("date", "year", "month")
    column = linking.best_column("date") if dated else None
    if column is None:
        column = linking.best_column("strict-number")
    if column is None:
        guessed = linking.fitting("strict-number")[:3]
        guesses.update(guessed)
        return [rule for c in guessed for rule in _number_rules_on(request, context, numbers, c)]
    return _number_rules_on(request, context, numbers, column)


def _number_rules_on(request: str, context: Context, numbers: list[Quantity], column: int) -> list[str]:
    first = numbers[0]
    value = _literal(first, column, context)
    out = []
    text = request[:]
    if len(numbers) >= 2 and (_BETWEEN.search(text) or _OUTSIDE.search(text) or re.search(r"\d\s*[–-]\s*\d", text)):
        low, high = sorted([numbers[0], numbers[1]], key=lambda q: q.value)
        rule = "NotBetween" if _OUTSIDE.search(text) else "Between"
        out.append(f"{rule}(c[{column}], {_literal(low, column, context)}, {_literal(high, column, context)})")
    if first.kind in ("year", "month") and not any(p.search(text) for p, _ in _COMPARATORS[:4]):
        out.append(f"Between(c[{column}], {int(first.low)}, {int(first.high)})")
    if _TOP.search(text) and first.kind in ("number", "percent") and first.value >= 1:
        out.append(f"top(c[{column}], {_rank_count(first)})")
    if _BOTTOM.search(text) and first.kind in ("number", "percent") and first.value >= 1:
        out.append(f"bottom(c[{column}], {_rank_count(first)})")
    for pattern, name in _COMPARATORS:
        if pattern.search(text):
            out.append(f"{name}(c[{column}], {value})")
            break
    return out


def _rank_count(q: Quantity) -> str:
    count = str(int(q.value)) if float(q.value).is_integer() else str(q.value)
    return count + "%" if q.kind == "percent" else count


def _literal(q: Quantity, column: int, context: Context) -> str:
    value = q.value
    if q.kind == "percent" and column in context.fractions:
        value = q.value / 100
    if q.kind in ("year", "month"):
        value = q.low
    return str(int(value)) if float(value).is_integer() else repr(float(value))
