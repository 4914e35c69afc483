"""Batch: one CF request per (sheet, range) of a workbook, the best rule of each written natively.

    python -m cf_service.batch WORKBOOK REQUESTS -o OUT [--report report.json] [-k 5] [--checkpoint DIR]

REQUESTS is a JSON list of {"sheet", "range", "request"} objects or a CSV file with the columns
sheet, range, request (header row first). Each range includes its header row (A1:D20: header in
row 1, data in rows 2-20); the table for the request is read from it with `table_from_sheet`,
the rule is written to its data cells. The report lists, per request, the rule chosen and the
alternatives with their explanations, scores and how many cells each formats on that range.
The input workbook is never written to; OUT must be another file (not a hard link to it either),
and is written beside itself first and renamed into place. A request whose best rule Excel
cannot store falls back to the next candidate; one that fails is reported and the rest applied.
Exit status: 0 when every request was applied, 3 when OUT was written but some requests failed (a summary line says how many),
1 when the workbook is unusable, 2 for a bad command line.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from . import pipeline
from cf_rules.errors import RuleError, TableError
from cf_rules.excel.native import parse_range, to_openpyxl_rule
from cf_rules.excel.package import RuleApplication, apply_rules, check_kind
from cf_rules.parser import parse
from cf_rules.runs import request_runs
from cf_rules.excel.styles import style_from_request
from cf_rules.table import table_from_sheet
from cf_rules.excel.safety import check_workbook


@dataclass(frozen=True)
class BatchItem:
    sheet: str
    range: str
    request: str


def load_items(path: str | Path) -> list[BatchItem]:
    """Requests from a .json list or a .csv file with sheet, range, request columns."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"requests file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        columns = {name.strip().lower(): name for name in reader.fieldnames or []}
        missing = [c for c in ("sheet", "range", "request") if c not in columns]
        if missing:
            raise ValueError(f"{path.name} lacks the column(s) {missing}; its header must name sheet, range, request")
        entries = [{key: row[columns[key]] for key in ("sheet", "range", "request")} for row in reader]
    elif path.suffix.lower() == ".json":
        try:
            entries = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path.name} is not valid JSON: {err.msg} at line {err.lineno}") from None
        if not isinstance(entries, list):
            raise ValueError(f"{path.name} must hold a JSON list of {{sheet, range, request}} objects")
    else:
        raise ValueError(f"cannot read requests from {path.suffix or 'a file without extension'}; use .json or .csv")
    items = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"request {index} is not an object with sheet, range and request")
        values = {}
        for key in ("sheet", "range", "request"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"request {index}: '{key}' is missing or empty")
            values[key] = value.strip()
        items.append(BatchItem(**values))
    if not items:
        raise ValueError(f"{path.name} holds no requests")
    return items


def run_batch(workbook: bytes, items: list[BatchItem], generator, *, k: int = 5, steps: int | None = None,
              seed: int | None = None, progress: bool = True, max_bytes: int | None = None,
              kind: str | None = None) -> tuple[bytes, dict]:
    """(new workbook bytes, report). Raises WorkbookError when the workbook itself is unusable (or
    is not the `kind`, "xlsx"/"xlsm", its name says); a request that fails (unknown sheet, bad
    range, no valid rule, a rule Excel cannot store) is reported, not raised, and the others applied."""
    import openpyxl

    limits = {"max_bytes": max_bytes} if max_bytes else {}
    info = check_workbook(workbook, **limits)
    check_kind(kind, info.kind)
    book = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True, data_only=True)
    applications, results = [], []
    try:
        for index, item in enumerate(tqdm(items, desc="cf batch", unit="request", disable=not progress)):
            result = {"index": index, "sheet": item.sheet, "range": item.range, "request": item.request}
            try:
                chosen, alternatives, application = _one(book, item, generator, k=k, steps=steps, seed=seed)
            except RuleError as err:
                result.update(status="error", error=err.to_dict())
                results.append(result)
                continue
            if chosen is None:
                result.update(status="no_valid_rule", chosen=None, alternatives=alternatives,
                              error={"code": "no_valid_rule", "message": "no generated rule was valid for this range",
                                     "hint": "rephrase the request or check the range holds the right column"})
            else:
                result.update(status="applied", chosen=chosen, alternatives=alternatives)
                applications.append(application)
            results.append(result)
    finally:
        book.close()

    # every part was checked above: the writer parses only the parts it edits
    output = apply_rules(workbook, applications, checked=True, **limits) if applications else bytes(workbook)
    report = {"requests": len(items), "applied": len(applications),
              "failed": len(items) - len(applications), "results": results}
    return output, report


def _sheet_name(book, wanted: str) -> str:
    """The workbook's spelling of a sheet name: Excel's sheet names are case-insensitive."""
    if wanted in book.sheetnames:
        return wanted
    for name in book.sheetnames:
        if name.lower() == wanted.lower():
            return name
    raise TableError(f"the workbook has no sheet {wanted!r}",
                     hint="sheets: " + ", ".join(repr(s) for s in book.sheetnames))


def _one(book, item: BatchItem, generator, *, k, steps, seed):
    item = replace(item, sheet=_sheet_name(book, item.sheet))
    sheet = book[item.sheet]
    if not hasattr(sheet, "iter_rows"):
        raise TableError(f"sheet {item.sheet!r} is a chart sheet", hint="choose a worksheet")
    table = table_from_sheet(sheet, item.range)
    if not table.rows:
        raise TableError(f"range {item.range} holds only a header row",
                         hint="include the data rows below the header, e.g. A1:D20")
    # the model reads the range as if its header sat at A1 (like the JSON rows of the API); the same rows
    # serve the ranking and the previews, so the previews reuse the ranking's executions (rules/runs.py)
    at_a1 = replace(table, origin=(1, 1))
    placed = pipeline.Placed(table, table.data_range(), at_a1)
    style = style_from_request(item.request)
    with request_runs():
        raw = generator.generate(item.request, table=at_a1, k=k, steps=steps, seed=seed)
        candidates, _ = pipeline.rank_candidates(raw, placed, style)
    summaries = [_summary(c) for c in candidates]
    last_error = None
    for index, candidate in enumerate(candidates):
        paint = candidate.get("paint") or {"rule": candidate["rule"], "range": placed.data_range}
        application = RuleApplication(rule=parse(paint["rule"]), sheet=item.sheet, cell_range=paint["range"],
                                      style=style)
        try:   # the first candidate Excel can store: one bad rule fails this request, not the batch
            to_openpyxl_rule(application.rule, parse_range(application.cell_range), style)
        except RuleError as err:
            last_error = err
            continue
        chosen = dict(summaries[index], applied_range=f"{item.sheet}!{paint['range']}")
        return chosen, summaries[:index] + summaries[index + 1:], application
    if last_error is not None:
        raise last_error
    return None, [], None


def _summary(candidate: dict) -> dict:
    return {"rule": candidate["rule"], "explanation": candidate["explanation"], "score": candidate["score"],
            "excel_type": candidate["excel_type"], "cells_formatted": candidate["preview"]["count"],
            "equivalent": candidate["equivalent"], "sibling": candidate["sibling"],
            "paints": (candidate.get("paint") or {}).get("target")}


def _write_new_file(target: Path, data: bytes) -> None:
    """Write `data` to a new file beside `target`, then rename it over `target`: an existing
    `target` (or a link to another file) is replaced, never written through."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cf_service.batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("workbook", help="input .xlsx/.xlsm (never modified)")
    parser.add_argument("requests", help="JSON list or CSV (sheet, range, request) of requests")
    parser.add_argument("-o", "--output", required=True, help="where to write the formatted workbook")
    parser.add_argument("--report", help="write the JSON report here (default: print a summary only)")
    parser.add_argument("-k", type=int, default=5, help="candidates generated per request (default 5)")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the checkpoint's)")
    parser.add_argument("--seed", type=int, default=None, help="sampling seed, for repeatable runs")
    parser.add_argument("--checkpoint", default=None, help="CF checkpoint folder (default: checkpoints/cf)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    source, target = Path(args.workbook), Path(args.output)
    if not source.is_file():
        parser.error(f"workbook {str(source)!r} does not exist")
    if target.suffix.lower() != source.suffix.lower():
        parser.error(f"--output must keep the workbook's extension ({source.suffix})")
    if target.exists() and (target.resolve() == source.resolve() or os.path.samefile(source, target)):
        # samefile: a hard link is the same file under another name
        parser.error("--output must differ from the input workbook, which is never modified")
    if not 1 <= args.k <= 100:
        parser.error("-k must be from 1 to 100")
    try:
        items = load_items(args.requests)
    except ValueError as err:
        parser.error(str(err))

    from codefusion.generate import load_generator
    generator = load_generator("cf", checkpoint=args.checkpoint)
    try:
        output, report = run_batch(source.read_bytes(), items, generator, k=args.k, steps=args.steps,
                                   seed=args.seed, progress=not args.no_progress)
    except RuleError as err:
        print(f"error: {err.message}" + (f" ({err.hint})" if err.hint else ""), file=sys.stderr)
        return 1
    _write_new_file(target, output)
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str),
                                     encoding="utf-8", errors="backslashreplace")
    for result in report["results"]:
        where = f"{result['sheet']}!{result['range']}"
        if result["status"] == "applied":
            print(f"{where}: {result['chosen']['rule']}  ({result['chosen']['explanation']})")
        else:
            print(f"{where}: not applied: {result['error']['message']}", file=sys.stderr)
    print(f"wrote {target} ({report['applied']}/{report['requests']} requests applied)")
    failed = report["requests"] - report["applied"]
    if failed:   # a script running the batch must see that the workbook lacks some rules
        print(f"{failed} of {report['requests']} requests failed; see the lines above"
              + (f" and {args.report}" if args.report else ""), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
