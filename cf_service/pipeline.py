"""A CF request becomes ranked, checked candidates.

    generator.generate(request, table, k)          raw rule texts with scores, best first
      -> parse + to_canonical                       drop what does not parse (kept under "rejected")
      -> execute on the table                       which cells it formats, colours/bars/icons (the run the
                                                    model's ranking made, when it had one: rules/runs.py)
      -> explain(rule, header)                      one plain-English line
      -> office_payload(rule, data range, style)    what the task pane hands Office.js
      -> excel_type                                 the native Excel rule type

Candidates that format exactly the same cells the same way are merged into the best-scored one
(the others are listed under "equivalent"), so the caller sees real alternatives. Without a table,
or when a rule formats no cell of the sample, only identical canonical rules are merged.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace

from cf_rules import a1
from cf_rules.syntax import CATALOGUE, Condition, Formula
from cf_rules.errors import RuleError, TableError
from cf_rules.explain import explain
from cf_rules.excel.office_js import office_payload
from cf_rules.executor import Execution
from cf_rules.paint import Paint, application, column_letter, own_paint
from cf_rules.parser import parse
from cf_rules.printer import to_canonical
from cf_rules.runs import execute_once, request_runs
from cf_rules.excel.styles import Style, style_from_request
from cf_rules.table import Table, table_from_json

log = logging.getLogger("cf_service.pipeline")

# Where a rule goes when the caller sends no table: a whole column's data below a header row.
DEFAULT_ADDRESS = "A2:A1048576"


@dataclass(frozen=True)
class Placed:
    """A table and the sheet range its data occupies (header excluded).

    `at_a1` is the same table with its header at A1, which is how the model reads the JSON rows:
    the origin changes which cells a formula rule's references name, so the model's own ranking
    of candidates must not see the caller's address."""
    table: Table | None
    data_range: str
    at_a1: Table | None = None


def place_table(rows: list[list] | None, address: str | None = None) -> Placed:
    """The table from JSON rows, placed at A1 or at `address` (the range the rows came from,
    header included, e.g. "Sheet1!C5:F20" from Office.js)."""
    if rows is None:
        return Placed(None, _data_range_without_table(address))
    at_a1 = table = table_from_json(rows)
    if address:
        row, col = _top_left(address)
        table = replace(at_a1, origin=(row, col))      # shares the converted rows
    return Placed(table, table.data_range() or table.address(0, 0), at_a1)


def _address_range(address: str) -> a1.CellRange:
    """The range an address names (a sheet prefix is allowed and ignored)."""
    try:
        return a1.parse_range(a1.split_sheet(address)[1])
    except a1.A1Error as err:
        if err.outside:
            raise TableError(f"address {address!r} is outside the sheet",
                             hint=f"rows run from 1 to {a1.MAX_ROWS} (the header needs a row below it), "
                                  "columns from A to XFD") from None
        raise TableError(f"address {address!r} is not an A1 range",
                         hint="send the range the table came from, e.g. 'C5:F20' or 'Sheet1!C5:F20'") from None


def _top_left(address: str) -> tuple[int, int]:
    rng = _address_range(address)
    if rng.min_row >= a1.MAX_ROWS:
        raise TableError(f"address {address!r} is outside the sheet",
                         hint=f"rows run from 1 to {a1.MAX_ROWS} (the header needs a row below it), columns from A to XFD")
    return rng.min_row, rng.min_col


def _data_range_without_table(address: str | None) -> str:
    if not address:
        return DEFAULT_ADDRESS
    row, col = _top_left(address)
    rng = _address_range(address)
    below = a1.CellRange(col, row + 1, rng.max_col, max(rng.max_row, row + 1))
    return below.sqref


def excel_type(rule) -> str:
    """The native Excel rule type of a parsed rule (OOXML `cfRule/@type`)."""
    if isinstance(rule, Formula):
        return "expression"
    if isinstance(rule, Condition):
        if rule.column is not None:   # row rules are written as formulas over the named columns
            return "expression"
        return CATALOGUE[rule.name].excel_type
    raise TypeError(f"not a rule: {rule!r}")


def check_rule(text: str):
    """(parsed rule, canonical text); raises RuleSyntaxError/UnsupportedRuleError."""
    rule = parse(text)
    return rule, to_canonical(rule)


def paint_payload(rule, canonical: str, paint: Paint, placed: Placed, style: Style) -> dict:
    """One reading of what a rule paints on the selection: the native rule that paints exactly that,
    its range, its preview and its Office.js payload (cf_rules.paint). The preview is the rule's own
    run (the ranking's, rules/runs.py) kept to the painted columns: a paint target changes which
    cells of the matching rows are formatted, never which rows match."""
    table = placed.table
    native = application(rule, paint, table)
    cell_range = native.cell_range(table)
    run = execute_once(rule, canonical, table)
    letters = {column_letter(table, c) for c in native.columns}
    execution = Execution([a for a in run.cells if a.rstrip("0123456789") in letters],
                          {a: v for a, v in run.visual.items() if a.rstrip("0123456789") in letters})
    return {"target": paint.target, "column": paint.column,
            "column_name": table.header[paint.column] if paint.column is not None else None,
            "range": cell_range, "rule": to_canonical(native.rule), "excel_type": excel_type(native.rule),
            "preview": {"cells": list(execution.cells), "visual": dict(execution.visual), "count": len(execution.cells)},
            "office": office_payload(native.rule, cell_range, style)}


def painted_explanation(explanation: str, rule, paint: Paint, table: Table) -> str:
    """The one-line explanation says what is painted: "Highlights Sales cells that are less than 500"
    for a column's cells, "Highlights Name cells in rows where Score is ..." for another column."""
    name = str(table.header[paint.column]).strip() if paint.column is not None else ""
    if paint.target == "cells" and name:
        native = application(rule, paint, table).rule
        text = explain(native, table.header)
        return text.replace("cells", f"{name} cells", 1) if "cells" in text else text
    if paint.target == "column" and name and "rows" in explanation:
        return explanation.replace("rows", f"{name} cells in rows", 1)
    return explanation


def describe_rule(rule, canonical: str, placed: Placed, style: Style, paint: Paint | None = None,
                  alternative: Paint | None = None) -> dict:
    """Everything the task pane shows for one rule: explanation, what it paints (and the other reading
    when there is one), preview, Office payload. `preview`, `office` and `excel_type` are those of the
    paint shown first."""
    header = placed.table.header if placed.table is not None else None
    out = {"rule": canonical, "explanation": explain(rule, header), "valid": True}
    if placed.table is not None and placed.table.n_rows:
        shown = paint_payload(rule, canonical, paint or own_paint(rule, placed.table), placed, style)
        other = paint_payload(rule, canonical, alternative, placed, style) if alternative is not None else None
        out["paint"] = {key: shown[key] for key in ("target", "column", "column_name", "range", "rule")}
        out["paint"]["alternative"] = other
        out["explanation"] = painted_explanation(out["explanation"], rule, paint or own_paint(rule, placed.table),
                                                 placed.table)
        out["preview"], out["office"], out["excel_type"] = shown["preview"], shown["office"], shown["excel_type"]
        return out
    if placed.table is not None:
        execution = execute_once(rule, canonical, placed.table)   # the ranking's run, when it had one
        out["preview"] = {"cells": list(execution.cells), "visual": dict(execution.visual),
                          "count": len(execution.cells)}
    else:
        out["preview"] = None
    out["office"] = office_payload(rule, placed.data_range, style)
    out["excel_type"] = excel_type(rule)
    return out


def rank_candidates(raw: list, placed: Placed, style: Style) -> tuple[list[dict], list[dict]]:
    """Checked candidates (merged, in the order of `raw`: the generator's ranking, which is not by score
    alone, see codefusion/tasks/cf/adapter.py `rank`) and the rejected raw codes with their errors."""
    candidates, rejected, by_key = [], [], {}
    for item in raw:     # the generator's Candidates, or (code, score) pairs
        code, score = (item.code, item.score) if hasattr(item, "code") else item
        sibling = bool(getattr(item, "sibling", False))
        try:
            rule, canonical = check_rule(code)
            described = describe_rule(rule, canonical, placed, style, getattr(item, "paint", None),
                                      getattr(item, "alternative", None))
        except RuleError as err:
            rejected.append({"code": code, "error": err.to_dict()})
            continue
        described["score"] = float(score)
        described["sibling"] = sibling
        key = _merge_key(described)
        if key in by_key:
            kept = by_key[key]
            if described["rule"] != kept["rule"] and described["rule"] not in kept["equivalent"]:
                kept["equivalent"].append(described["rule"])
            continue
        described["equivalent"] = []
        by_key[key] = described
        candidates.append(described)
    return candidates, rejected


def _merge_key(candidate: dict) -> str:
    preview = candidate["preview"]
    if preview is None or preview["count"] == 0:
        return "rule:" + candidate["rule"]
    return "cells:" + json.dumps([preview["cells"], preview["visual"]], sort_keys=True, default=str)


def generate_cf(generator, request: str, placed: Placed, *, k: int, steps: int | None = None,
                seed: int | None = None, style: Style | None = None) -> dict:
    """The full CF pipeline for one request: the JSON body of POST /v1/cf/generate.

    `placed` is `place_table(rows, address)`, built by the caller before any model time is spent
    (a bad table is a 422 then). The model gets the converted Table rather than the JSON rows, so
    a request converts its table once (a 1,000-row table costs tens of milliseconds each time)."""
    style = style or style_from_request(request)
    with request_runs():   # the previews reuse the executions of the model's ranking (rules/runs.py)
        raw = generator.generate(request, table=placed.at_a1, k=k, steps=steps, seed=seed)
        candidates, rejected = rank_candidates(raw, placed, style)
    return finish(candidates, rejected, placed, style)


def finish(candidates: list[dict], rejected: list[dict], placed: Placed, style: Style) -> dict:
    return {"candidates": candidates, "style": asdict(style), "range": placed.data_range,
            "rejected": rejected}


def preview_rule(text: str, rows: list[list], *, style: Style | None = None, address: str | None = None) -> dict:
    """POST /v1/cf/preview: one rule on one table."""
    rule, canonical = check_rule(text)
    placed = place_table(rows, address)
    style = style or style_from_request("")
    out = describe_rule(rule, canonical, placed, style)
    out["style"] = asdict(style)
    out["range"] = placed.data_range
    return out
