"""What the request's wording says beyond the rule: what to paint, and which readings it asks for.

    paint_for(rule, request, linking, table) -> (Paint, alternative Paint | None)

The reading follows the words: rows, records, entries or a noun for the table's records ("deals",
"orders", "anyone", "who") ask for whole rows; cells, values, or the tested column's own name
("the amounts", "Qty.") ask for that column's cells; "the names of students who ..." asks for
another column's cells. When the words do not decide, the column's cells come first and the
whole rows are offered as the alternative (the pane switches with one click).
"""
from __future__ import annotations

import re

from cf_rules.paint import Paint, is_visual, readings

from .linker import Linking

_ROWS = re.compile(r"\b(?:rows?|records?|entries|entry|lines?|whole row|entire row)\b", re.I)
_CELLS = re.compile(r"\b(?:cells?|values?|numbers|figures|column|col)\b", re.I)
# nouns for a table's records: people and the things office tables list
_RECORD_NOUNS = re.compile(
    r"\b(?:who|whoever|anyone|anybody|everyone|everybody|someone|people|persons?|staff|employees?|workers?|"
    r"students?|pupils?|kids|children|respondents?|respondants?|participants?|customers?|clients?|members?|"
    r"users|patients|applicants|candidates|contacts|suppliers|vendors|accounts|"
    r"orders?|deals?|opportunit(?:y|ies)|invoices?|transactions?|purchases?|sales?|bookings?|tickets?|tasks?|"
    r"projects?|products?|stores?|shops?|branches?|pages?|sites?|expenses?|claims?|meals|trips?|"
    r"shipments?|lines?|rows?|records?|entries|listings?|properties|vehicles?|cars?|books?)\b", re.I)
_VERB = re.compile(r"\b(?:highlight|hilight|highlihgt|mark|colou?r|shade|flag|show|find|pick out|spot|fill|format|"
                   r"light up|see|like|want|need|put|give|add|apply|identify|make|markiere|marca|resalta|surligner)\w*",
                   re.I)
_MEASURES = frozenset("""amount amounts size sizes value values total totals price prices cost costs score scores count
counts number numbers date dates name names id ids rate rates level levels quantity quantities""".split())
_OF_THE = re.compile(r"\b(?:the\s+)?([^\W\d_]+(?:\s[^\W\d_]+)?)\s+of\s+(?:the\s+|all\s+|any\s+)?[^\W\d_]+\s+(?:who|that|whose|with|where)\b", re.I)


def paint_for(rule, request: str, linking: Linking, table) -> tuple[Paint, Paint | None]:
    options = readings(rule, table)
    if len(options) == 1 or is_visual(rule):
        return options[0], None
    column = options[0].column
    other = _other_column(request, linking, column)
    if other is not None:
        return Paint("column", other), Paint("rows")
    rows, cells = options[1], options[0]
    if _ROWS.search(request):
        return rows, cells
    if _CELLS.search(request):
        return cells, rows
    verb = _VERB.search(request)
    start = verb.end() if verb else 0
    header_at = linking.header_spans.get(column, (None,))[0] if linking.header_scores.get(column, 0) >= 1.5 else None
    if header_at is not None and header_at < start:
        header_at = None if _RECORD_NOUNS.search(request, start) else header_at
    record = next((m for m in _RECORD_NOUNS.finditer(request, start) if not _compound(request, m)), None)
    if record and (header_at is None or record.start() < header_at):
        return rows, cells
    return cells, rows


def _compound(request: str, match) -> bool:
    """'deal amounts', 'order sizes': the record noun modifies a measure noun, which is the head."""
    following = re.match(r"\s+([^\W\d_]+)", request[match.end():])
    return bool(following) and following.group(1).lower() in _MEASURES


def _other_column(request: str, linking: Linking, tested: int) -> int | None:
    """'the names of students who scored above average' paints the Name column: the noun before
    'of ... who/that' names a column other than the tested one."""
    match = _OF_THE.search(request)
    if not match:
        return None
    start, end = match.span(1)
    for c, (a, b) in linking.header_spans.items():
        if c != tested and start <= a and b <= end + 1 and linking.header_scores.get(c, 0) >= 3:
            return c
    return None
