"""The candidate pipeline on a user's table, in the order a request's rules pass through it:

    decoded codes -> restore literals, repair, grammar check        (adapter.restore_valid)
      -> link the request to the table's columns and values        (linker.link)
      -> ground each rule: bind its conditions to columns, keep only literals someone gave (grounding.ground)
      -> add the readings of the request's own words              (reader_rules)
      -> merge rules that format the same cells, rank             (adapter.rank)
      -> what each paints on the selection, and its alternative   (wording.paint_for)

A rule that cannot be grounded is not shown: a column-less `GreaterThan(500)` on a table of names
and amounts becomes `GreaterThan(c[2], 500)` on the column the request is about, and
`TextEquals(lunch)` on a table that never says lunch is dropped.
"""
from __future__ import annotations

from cf_rules.errors import RuleError
from cf_rules.printer import to_canonical
from cf_rules.table import Table

from cf_rules.rewrite import flip_connective, parse_canonical, siblings

from ..base import Candidate
from .grounding import Context, ground
from .linker import link
from .quantities import quantities
from .reader import reader_rules
from .reading import FLIP_PENALTY, SIBLING_PENALTY, Reading, add_rewrites
from .wording import paint_for

READER_GUESS_GAP = 0.5  # a reading on a column the request does not link scores below the model's best
READER_LEAD = 3.0   # a reading of the request's own words scores this far above the model's best sample


def table_context(request: str, table: Table) -> Context:
    fractions = {c for c in range(table.n_cols) if _fraction_column(table.column(c))}
    linking = link(request, table, percent_columns=fractions)
    return Context(request, linking, quantities(request), table.n_cols, fractions, linking.texts)


def _fraction_column(values) -> bool:
    """A numeric column whose numbers all lie within [-1, 1] and are not all 0/1: percents typed as
    "42%" arrive as 0.42, and a request's "above 60%" compares 0.6 there."""
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return bool(numbers) and all(-1 <= n <= 1 for n in numbers) and any(n not in (0.0, 1.0) for n in numbers)


def table_candidates(task, codes, scores, drawn, request: str, table: Table, masked, k) -> list[Candidate]:
    context = table_context(request, table)
    drawn = [True] * len(codes) if drawn is None else drawn
    readings: list[Reading] = []
    restored: dict[str, str | None] = {}
    grounded: dict[str, str | None] = {}
    for code, score, was_drawn in zip(codes, scores, drawn):
        if code not in restored:
            restored[code] = task.restore_valid(code, masked)
        text = restored[code]
        if text is None:
            continue
        if text not in grounded:
            grounded[text] = _grounded(text, context)
        if grounded[text] is not None:
            readings.append(Reading(grounded[text], float(score), was_drawn))
    best = max((r.score for r in readings), default=(min(scores) if scores else 0.0))
    for i, (text, sure) in enumerate(reader_rules(request, table, context)):
        fixed = _grounded(text, context)
        if fixed is not None:
            lead = READER_LEAD if sure else -READER_GUESS_GAP
            readings.append(Reading(fixed, best + lead - 0.05 * i, True, votes=1))
    add_rewrites(readings, flip_connective,
                          lambda r, code: Reading(code, r.score - FLIP_PENALTY, r.drawn, votes=0))
    keys: dict = {}
    ranked = task.rank(readings, table, frozenset(), False, keys)
    missing = len(ranked) * 5 if k is None else k - len(ranked)
    if missing > 0:
        offered, fillers = {r.code for r in readings}, []
        for candidate in ranked:
            for i, sibling in enumerate(siblings(candidate.code)):
                if sibling not in offered and len(fillers) < 2 * missing:
                    offered.add(sibling)
                    fillers.append(Reading(sibling, candidate.score - SIBLING_PENALTY - 0.01 * i,
                                                   drawn=False, votes=0, filler=True))
        if fillers:
            ranked = task.rank(readings + fillers, table, frozenset(), False, keys)
    return [_painted(candidate, request, context, table) for candidate in ranked]


def _grounded(text: str, context: Context) -> str | None:
    try:
        rule = ground(parse_canonical(text), context)
        return None if rule is None else to_canonical(rule)
    except (RuleError, ValueError, TypeError):
        return None


def _painted(candidate: Candidate, request: str, context: Context, table: Table) -> Candidate:
    paint, alternative = paint_for(parse_canonical(candidate.code), request, context.linking, table)
    return Candidate(candidate.code, candidate.score, candidate.sibling, paint, alternative)
