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
    header_at = linking.header_spans.get(column, (None,))[0] if linking.header_scores.get(column, 0) >= 2 else None
    record = _RECORD_NOUNS.search(request)
    if record and (header_at is None or record.start() < header_at):
        return rows, cells
    return cells, rows


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
