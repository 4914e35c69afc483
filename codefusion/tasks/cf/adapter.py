"""The CF task adapter: sheet-aware encoder text, literal placeholders, grammar-checked candidates.

    task = get_task("cf")
    task.source_text("highlight sales under $800", [["Region", "Sales"], ["North", 120]])
        -> 'highlight sales under <NUM0> | columns: c0 Region (text: North), c1 Sales (number)'
    task.postprocess(["LessThan(c[1], <NUM0>)", "LessThan(c[1], <NUM0>"], [-0.1, -0.3], request, table)
        -> [Candidate("LessThan(c[1], 800)", -0.1), ...]            # restored, repaired, merged, then siblings

Training: `training_source(record)` / `training_target(record)` give the masked pair of a record
(the target's literals that the request contains become the same placeholders). The core calls
`target_code(code)` without the record; until it calls `training_target`, `target_code` masks with
the request of the record whose `training_source` was built last when the code matches (train.py
builds each pair as (training_source(r), target_code(r.code)), so they are adjacent).
`extra_training_pairs` adds the synthetic triples of codefusion.cfgen and extra copies of the real
train-split records (never the dev split).

Postprocessing guarantees every returned code parses: placeholders are restored, a light repair
is tried (balance parentheses and brackets, drop trailing junk and commas), anything that still
does not parse is dropped. Candidates that format the same cells of the table (or, without a
table, have the same canonical form) are merged; ranking is model score plus agreement, with
highlight rules that format no cell or every cell demoted. When nothing valid is left, a small
keyword reader of the request proposes rules (scored below every model candidate), and when that
finds nothing either the list is empty: the caller reports "no rule understood" rather than
receiving a guess. `explain_empty(request)` says why in words.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter

from cf_rules.errors import RuleError
from cf_rules.parser import parse
from cf_rules.printer import to_canonical
from cf_rules.rewrite import (_read_columns, _unwrapped, flip_connective, ground, ground_in_order,
                              parse_canonical, siblings, unground)
from cf_rules.runs import execute_once
from cf_rules.syntax import Condition, Number, iter_conditions
from cf_rules.table import Table, table_from_json

from .candidates import table_candidates
from .linker import column_kind
from .literals import PLACEHOLDER, Masked, mask_request, mask_target, restore
from .reading import FLIP_PENALTY, SIBLING_PENALTY, Reading, add_rewrites
from .repair import _nonsense_literal, _quote, keyword_rules, repair  # noqa: F401  (repair: tests and callers)
from ..base import Candidate, TaskAdapter, register_task

MAX_DESCRIBED_COLUMNS = 8
MAX_SAMPLES = 2
MAX_SAMPLE_CHARS = 16
VOTE_BONUS = 0.5          # score added per doubling of candidates that agree (same cells / same rule)
SYNTHETIC_TRIPLES = 20000
REAL_RECORD_COPIES = 4    # the real train records appear 1 (core) + this many times (extra pairs)


# ----------------------------------------------------------------------------------------------
# tables

def as_table(table) -> Table | None:
    """A Table from JSON rows or a Table; None for no table. Malformed rows raise TableError."""
    if table is None:
        return None
    if isinstance(table, Table):
        return table
    if isinstance(table, list) and not table:
        return None
    return table_from_json(table)


def column_type(values) -> str:
    """The kind of a column as the encoder text describes it (error cells count as text, as in training)."""
    return column_kind(values, skip_errors=False)


def describe_table(table, request: str = "") -> str:
    """'columns: c0 Region (text: North, South), c1 Sales (number), c2 Date (date)'.

    Text columns show up to two values (one when the table has more than three columns), those the
    request mentions first, then the most frequent; the request encoder thus sees the header words
    next to their c[i] index."""
    table = as_table(table)
    if table is None or not table.header:
        return ""
    lowered = (request or "").lower()
    samples = MAX_SAMPLES if len(table.header) <= 3 else 1     # wide tables: keep within the encoder's length
    parts = []
    for i, name in enumerate(table.header[:MAX_DESCRIBED_COLUMNS]):
        values = table.column(i)
        kind = column_type(values)
        label = " ".join(str(name).split()) or f"column {i + 1}"
        if kind == "text":
            texts = Counter(str(v).strip() for v in values if isinstance(v, str) and v.strip())
            ranked = sorted(texts, key=lambda v: (v.lower() not in lowered, -texts[v]))
            shown = [v[:MAX_SAMPLE_CHARS] for v in ranked[:samples]]
            parts.append(f"c{i} {label} (text: {', '.join(shown)})" if shown else f"c{i} {label} (text)")
        else:
            parts.append(f"c{i} {label} ({kind})")
    if len(table.header) > MAX_DESCRIBED_COLUMNS:
        parts.append(f"+{len(table.header) - MAX_DESCRIBED_COLUMNS} more")
    return "columns: " + ", ".join(parts)


def _table_words(table: Table | None) -> tuple[list[str], set[str]]:
    if table is None:
        return [], set()
    values = {str(v).strip() for row in table.rows for v in row if isinstance(v, str) and v.strip()}
    return [str(h) for h in table.header], values


def benchmark_columns(table: Table | None) -> list[int] | None:
    """The range a cell rule covers: the benchmark's tables (Index, Value, ...) format Value only."""
    if table is not None and len(table.header) >= 2 and table.header[0] == "Index" and table.header[1] == "Value":
        return [1]
    return None


@register_task("cf")
class CFTask(TaskAdapter):
    synthetic_triples = SYNTHETIC_TRIPLES
    real_record_copies = REAL_RECORD_COPIES
    synthetic_seed = 0

    def __init__(self):
        self._last_masked: tuple[str, Masked] | None = None   # (record code, its request's mask)

    # -- encoder side
    def encode(self, request: str, table=None) -> tuple[str, Masked]:
        """(source text, literal mask) for a request and an optional table (JSON rows or Table)."""
        request = " ".join(str(request or "").split())
        parsed = as_table(table)
        masked = self.mask(request, parsed)
        description = describe_table(parsed, request) if parsed is not None else ""
        source = f"{masked.text} | {description}" if description else masked.text
        return source, masked

    def mask(self, request: str, table: Table | None = None) -> Masked:
        """The literal mask of `encode` alone (describing a large table is the costly part of encoding)."""
        request = " ".join(str(request or "").split())
        header, values = _table_words(table)
        return mask_request(request, header, values)

    def source_text(self, request: str, table=None) -> str:
        return self.encode(request, table)[0]

    # -- training pairs
    def canonical(self, code: str) -> str:
        """The canonical spelling of a gold rule; the stripped text when it does not parse
        (a few benchmark golds are not rules, e.g. recorded ExcelScript)."""
        try:
            return to_canonical(parse(code.strip()))
        except (RuleError, ValueError, TypeError):
            return code.strip()

    def training_source(self, record) -> str:
        source, masked = self.encode(record.nl, _safe_table(record.table))
        self._last_masked = (record.code, masked)
        return source

    def training_target(self, record) -> str:
        _, masked = self.encode(record.nl, _safe_table(record.table))
        return mask_target(self.canonical(record.code), masked)

    def target_code(self, code: str) -> str:
        canonical = self.canonical(code)
        if self._last_masked is not None and self._last_masked[0] == code:
            return mask_target(canonical, self._last_masked[1])
        return canonical

    def normalize_for_match(self, code: str) -> str:
        return "".join(code.split())

    def extra_training_pairs(self, data_dir) -> list[tuple[str, str]]:
        """Synthetic triples (cfgen, split "train") + extra copies of the real train-split records."""
        from ...cfgen import generate
        from ...data import load_records, split_records

        pairs = []
        for triple in generate(self.synthetic_triples, seed=self.synthetic_seed, split="train"):
            source, masked = self.encode(triple["request"], triple["table"])
            pairs.append((source, mask_target(triple["rule"], masked)))
        train, _dev = split_records("cf", load_records("cf", data_dir))
        for record in train:
            canonical = self.canonical(record.code)
            try:
                parse(canonical)
            except (RuleError, ValueError):
                continue            # not a rule: train on it once (core pairs), never up-weight it
            source, masked = self.encode(record.nl, _safe_table(record.table))
            pairs.extend([(source, mask_target(canonical, masked))] * self.real_record_copies)
        return pairs

    # -- generation side
    def display_codes(self, codes: list[str], request: str = "", table=None) -> list[str]:
        """Mid-sampling codes with the request's literals put back, valid or not (placeholders a
        request does not fill stay visible)."""
        parsed_table = _safe_table(table)
        masked = self.mask(request, as_table(parsed_table) if parsed_table is not None else None)
        return [restore(code, masked) for code in codes]

    def postprocess(self, codes: list[str], scores: list[float], request: str = "", table=None,
                    drawn: list[bool] | None = None, k: int | None = None) -> list[Candidate]:
        """`drawn[i]` False marks codes[i] as a swap variant (model.swap_variants), not a sample: a group
        with no drawn member ranks after every group with one, so variants add candidates, never a new top.

        When the request names exactly one column by its header, each candidate also comes bound to that
        column (`ground`): the model often gets the rule right and the column index wrong; when it names
        two, a two-condition rule comes with its conditions on them in the request's order
        (`ground_in_order`). When it names none and does not speak of rows, a rule on one column also
        comes as a cell rule (`unground`), and cell rules rank first: "show me deadlines in the last 7
        days" asks for no row rule. A rule joined by AND also comes joined by OR and the other way round
        (`flip_connective`), scored lower and with no vote: "under 50 or over 70" is the connective small
        models confuse most, and an AND that can never hold formats nothing, so its OR reading outranks it.
        Last come the siblings of the ranked rules (`siblings`: same arguments, another comparison or
        text test), flagged `sibling`, when the model's readings format fewer distinct cell sets than k
        (with k None: always); each is executed on the table, so only about as many as are missing are tried."""
        parsed_table = _safe_table(table)
        parsed_table = as_table(parsed_table) if parsed_table is not None else None
        masked = self.mask(request, parsed_table)
        if on_user_table(parsed_table):
            return table_candidates(self, codes, scores, drawn, request, parsed_table, masked, k)
        mentions = column_mentions(request, parsed_table)
        mentioned = frozenset(mentions)
        named = mentions[0] if len(mentions) == 1 else None
        drawn = [True] * len(codes) if drawn is None else drawn
        valid: list[Reading] = []
        restored: dict[str, str | None] = {}      # agreeing draws decode the same code: restore it once
        for code, score, was_drawn in zip(codes, scores, drawn):
            if code not in restored:
                restored[code] = self.restore_valid(code, masked, named)
            rule_text = restored[code]
            if rule_text is not None:
                valid.append(Reading(rule_text, float(score), was_drawn))
        if not valid:
            floor = (min(scores) if scores else 0.0) - 1.0
            for rule_text in keyword_rules(masked):
                fixed = self.restore_valid(rule_text, masked, named)
                if fixed is not None:
                    valid.append(Reading(fixed, floor))
        cells_first = not mentions and not _ROW_WORDS.search(request or "")
        # other readings of the same draws: a grounded or ungrounded one keeps its draw's score and vote
        if cells_first and parsed_table is not None:
            add_rewrites(valid, unground, lambda reading, code: reading._replace(code=code))
        if named is not None:
            bind_cell_rules = not _single_column_range(parsed_table)
            add_rewrites(valid, lambda code: ground(code, named, bind_cell_rules),
                          lambda reading, code: reading._replace(code=code))
        elif len(mentions) == 2:
            add_rewrites(valid, lambda code: ground_in_order(code, mentions),
                          lambda reading, code: reading._replace(code=code))
        add_rewrites(valid, flip_connective,
                      lambda reading, code: Reading(code, reading.score - FLIP_PENALTY, reading.drawn, votes=0))
        keys: dict[str, tuple[str, int]] = {}
        ranked = self.rank(valid, parsed_table, mentioned, cells_first, keys)
        missing = len(ranked) * 5 if k is None else k - len(ranked)
        if missing <= 0:
            return ranked
        offered, fillers = {reading.code for reading in valid}, []
        for candidate in ranked:
            for i, sibling in enumerate(siblings(candidate.code)):
                if sibling not in offered and len(fillers) < 2 * missing:   # some merge into a reading
                    offered.add(sibling)
                    fillers.append(Reading(sibling, candidate.score - SIBLING_PENALTY - 0.01 * i,
                                           drawn=False, votes=0, filler=True))
        return self.rank(valid + fillers, parsed_table, mentioned, cells_first, keys) if fillers else ranked

    def restore_valid(self, code: str, masked: Masked, named_column: int | None = None) -> str | None:
        """Canonical rule text for a decoded code, or None when no repair makes it parse. With
        `named_column` (the one column the request names), a column reference the model left without
        its index (`c[c]`, `c[]`) is read as that column."""
        if not isinstance(code, str) or not code.strip():
            return None
        attempts = [restore(code, masked)]
        attempts.append(restore(code, masked, quote=_quote))          # texts with commas, parentheses
        if named_column is not None and _INDEXLESS_COLUMN.search(attempts[0]):
            attempts.append(_INDEXLESS_COLUMN.sub(f"c[{named_column}]", attempts[0]))
        for attempt in list(attempts):
            attempts.append(repair(attempt))
        for attempt in dict.fromkeys(attempts):                     # often equal: parse each spelling once
            if PLACEHOLDER.search(attempt):
                continue                                            # a slot the request does not have
            try:
                rule = parse(attempt)
            except (RuleError, ValueError, TypeError, RecursionError):
                continue
            if _nonsense_literal(rule, masked.request):
                continue
            return to_canonical(_unwrapped(rule))
        return None

    def rank(self, valid: list[Reading], table: Table | None, mentioned: frozenset[int] = frozenset(),
             cells_first: bool = False, keys: dict | None = None) -> list[Candidate]:
        """Merge equal candidates (same cells on the table, else same canonical form) and order
        them: when the request names columns, rules on those columns, then cell rules, then rules on
        other columns (`_grounding`),
        then sampled before variant-only groups, then tier (0 fine, 1 formats nothing/everything,
        2 does not run on this table), then best score plus VOTE_BONUS * log2(number of agreeing votes)."""
        groups: dict[str, dict] = {}
        columns = benchmark_columns(table)
        single_range = _single_column_range(table)
        keys = {} if keys is None else keys     # one execution per distinct code, however many votes it has
        for code, score, was_drawn, votes, filler in valid:
            key, tier = code, 0
            if table is not None and table.n_rows:     # a header alone tells no rule from another: merge by text
                if code not in keys:
                    keys[code] = _execution_key(code, table, columns)
                key, tier = keys[code]
            group = groups.setdefault(key, {"codes": Counter(), "best": {}, "tier": tier, "drawn": False, "filler": True})
            group["drawn"] |= was_drawn
            group["filler"] &= filler
            group["codes"][code] += votes
            group["best"][code] = max(score, group["best"].get(code, -math.inf))
        ranked = []
        for group in groups.values():
            # the group's face: the spelling sampled most often, then the best scored
            code = max(group["codes"], key=lambda c: (group["codes"][c], group["best"][c]))
            votes = max(1, sum(group["codes"].values()))
            score = max(group["best"].values()) + VOTE_BONUS * math.log2(votes)
            ranked.append((group["filler"], _grounding(code, mentioned, single_range, cells_first), not group["drawn"],
                           group["tier"], -score, code, score))
        ranked.sort()
        return [Candidate(code, score, sibling=filler) for filler, *_, code, score in ranked]

    def explain_empty(self, request: str) -> str:
        return ("no valid rule could be read from the request; name a condition such as "
                "'greater than 500', 'contains Done', 'top 10', 'duplicates' or 'a colour scale'")


def _safe_table(table):
    """Rows as given, or None when they are not a table (training records with odd data)."""
    if table is None or isinstance(table, Table):
        return table
    try:
        return as_table(table)
    except RuleError:
        return None


def _execution_key(code: str, table: Table, columns) -> tuple[str, int]:
    """`code` is canonical (restore_valid), so the service's preview of the same rule on the same
    table reuses this execution (cf_rules/runs.py)."""
    rule = parse_canonical(code)
    try:
        run = execute_once(rule, code, table, columns=columns if _is_cell_rule(rule) else None)
    except (RuleError, ValueError, TypeError, ZeroDivisionError, OverflowError):
        return "error:" + code, 2
    key = json.dumps([run.cells, run.visual], sort_keys=True, default=str)
    if _redundant(rule):
        return key, 1
    visual = bool(run.visual) or getattr(rule, "name", "") in ("ColorScale", "DataBar", "IconSet")
    n_range = table.n_rows * (len(columns) if columns and _is_cell_rule(rule) else table.n_cols)
    if not visual and (not run.cells or (len(run.cells) >= n_range and table.n_rows >= 4)):
        return key, 1
    if visual and not run.cells:
        return key, 1
    return key, 0


_BOUNDS = {"GreaterThan": (False, None), "GreaterThanEqual": (True, None),
           "LessThan": (None, False), "LessThanEqual": (None, True)}


def _redundant(rule) -> bool:
    """An AND or OR of two comparisons on the same column where one implies the other
    (`AND(LessThan(30), LessThanEqual(56))` is just `LessThan(30)`): nobody asks for that, it is
    a misread "less than 30 or more than 56". Decided on the literals, not on the table's data."""
    if not isinstance(rule, Condition) or rule.name not in ("AND", "OR") or len(rule.args) != 2:
        return False
    a, b = (_interval(arg) for arg in rule.args)
    return a is not None and b is not None and a[0] == b[0] and (_within(a[1], b[1]) or _within(b[1], a[1]))


def _interval(cond):
    """(column, (low, low inclusive, high, high inclusive)) of a one-literal comparison."""
    if not isinstance(cond, Condition) or cond.name not in _BOUNDS or len(cond.args) != 1:
        return None
    number = cond.args[0]           # the parser reads `30%` in a comparison as the number 0.3
    if not isinstance(number, Number):
        return None
    low, high = _BOUNDS[cond.name]
    v = number.value
    return cond.column, ((v, low, math.inf, False) if low is not None else (-math.inf, False, v, high))


def _within(inner, outer) -> bool:
    (lo1, li1, hi1, hi1_in), (lo2, li2, hi2, hi2_in) = inner, outer
    low_ok = lo1 > lo2 or (lo1 == lo2 and (li2 or not li1))
    high_ok = hi1 < hi2 or (hi1 == hi2 and (hi2_in or not hi1_in))
    return low_ok and high_ok


def column_mentions(request: str, table: Table | None) -> list[int]:
    """Columns whose header the request names, in the order the request names them: whole words, any
    case, with or without a trailing unit in parentheses ("weight" names "Weight (kg)"); of two that
    match the same words ("Time" and "Time on Page") the longer name wins."""
    if table is None or not request:
        return []
    text = " ".join(request.lower().split())
    spans = {}
    for i, header in enumerate(table.header):
        header = " ".join(str(header).lower().split())
        for name in dict.fromkeys([header, re.sub(r"\s*\([^()]*\)$", "", header)]):
            match = re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text) if len(name) >= 2 else None
            if match:
                spans[i] = match.span()
                break
    named = [i for i, (a, b) in spans.items()
             if not any(j != i and a2 <= a and b <= b2 and b2 - a2 > b - a for j, (a2, b2) in spans.items())]
    return sorted(named, key=lambda i: spans[i])


def _grounding(code: str, mentioned: frozenset[int], single_range: bool = False, cells_first: bool = False) -> int:
    """How well a rule fits the columns the request names by header, 0 best: 0 it reads all of them,
    1 some of them, 2 none (a cell rule), 3 a column the request does not name. "top 5 in Days Late" is
    about the Days Late column, whatever the model's column index says. Where a cell rule's range is one
    column (the benchmark's Index/Value tables), naming that column ("values over 5") does not ask for a
    row rule: cell rules rank as 0 there. When the request names no column, every rule is 0, except that
    with `cells_first` (the request does not speak of rows either) a row rule is 1."""
    columns = _read_columns(parse_canonical(code))
    if not mentioned:
        return 1 if columns and cells_first else 0
    if columns - mentioned:
        return 3
    if not columns:
        return 0 if single_range else 2
    return 0 if columns == mentioned else 1


def on_user_table(table: Table | None) -> bool:
    """A table of a user's sheet, not one of the benchmark's Index/Value tables: candidates are bound to
    its columns and say what they paint (tasks/cf/candidates.py)."""
    return table is not None and table.n_rows > 0 and table.n_cols > 1 and benchmark_columns(table) is None


def _single_column_range(table: Table | None) -> bool:
    """True when a cell rule on `table` covers a single column."""
    if table is None:
        return False
    columns = benchmark_columns(table)
    return (len(columns) if columns else table.n_cols) == 1


# a request that speaks of rows asks for a row rule even when it names no column the way the header does
_ROW_WORDS = re.compile(r"\b(?:rows?|lines?|records?|entries)\b", re.IGNORECASE)
_INDEXLESS_COLUMN = re.compile(r"\bc\s*\[[^\]\d,()]*\]")


def _is_cell_rule(rule) -> bool:
    if not hasattr(rule, "name"):
        return True
    return all(c.column is None for c in iter_conditions(rule))
