"""The CF endpoints: generate, validate, preview (JSON) and apply, batch (workbook uploads)."""
from __future__ import annotations

import base64
import json
from pathlib import PurePath

from io import BytesIO

from flask import Blueprint, current_app, jsonify, request, send_file

from codefusion.limits import MAX_STEPS
from .. import pipeline
from cf_rules.errors import RuleError
from cf_rules.explain import explain
from ..errors import ApiError
from .common import (MAX_REQUEST_CHARS, field_error, json_body, optional_int, optional_table, parse_style,
                     require_text, run_with_timeout, settings, text_field, too_deep)

bp = Blueprint("cf", __name__, url_prefix="/v1/cf")

XLSX_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
}


def generation_options(body: dict) -> dict:
    """k, steps and seed from a JSON body or a query string, range-checked."""
    return {
        "k": optional_int(body, "k", low=1, high=settings().max_k, default=min(5, settings().max_k)),
        "steps": optional_int(body, "steps", low=1, high=MAX_STEPS, default=None),
        "seed": optional_int(body, "seed", low=0, high=2**31 - 1, default=None),
    }


def optional_address(body: dict) -> str | None:
    value = body.get("address")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 300:
        raise field_error("address", "must be an A1 range such as 'C5:F20' or 'Sheet1!C5:F20'.")
    return value.strip()


@bp.post("/generate")
def generate():
    body = json_body()
    text = require_text(body, "request", example="highlight sales under 500 in red")
    rows = optional_table(body)
    options = generation_options(body)
    address = optional_address(body)
    style = parse_style(body.get("style"))
    placed = pipeline.place_table(rows, address)   # a bad table is a 422 before any model time is spent
    generator = current_app.extensions["cf_models"].get("cf")

    def work():
        return pipeline.generate_cf(generator, text, placed, style=style, **options)

    return jsonify(run_with_timeout(work))


@bp.post("/validate")
def validate():
    """200 either way: {"valid": true, "rule", "explanation", "excel_type"} or
    {"valid": false, "error": {code, message, position, expected, hint}}. A rule that does not
    parse is an answer to the question asked, not a failed request."""
    body = json_body()
    text = require_text(body, "rule", example="LessThan(500)")
    header = body.get("header")
    if header is not None and (not isinstance(header, list) or not all(isinstance(h, str) for h in header)):
        raise field_error("header", "must be a list of column names.", hint='e.g. ["Region", "Sales"]')
    try:
        rule, canonical = pipeline.check_rule(text)
    except RuleError as err:
        return jsonify({"valid": False, "rule": text, "error": err.to_dict()})
    return jsonify({"valid": True, "rule": canonical, "explanation": explain(rule, header),
                    "excel_type": pipeline.excel_type(rule)})


@bp.post("/preview")
def preview():
    body = json_body()
    text = require_text(body, "rule", example="LessThan(500)")
    rows = optional_table(body)
    if rows is None:
        raise field_error("table", "is required for a preview.",
                          hint='Send the cells, header first: [["Region","Sales"],["North",420]].')
    style = parse_style(body.get("style"))
    address = optional_address(body)
    return jsonify(run_with_timeout(pipeline.preview_rule, text, rows, style=style, address=address, work="preview"))


# ---------------------------------------------------------------- workbook uploads

def uploaded_workbook() -> tuple[bytes, str, str]:
    """(bytes, file name, suffix) of the multipart part 'workbook' (.xlsx/.xlsm)."""
    if not request.mimetype == "multipart/form-data":
        raise ApiError(415, "unsupported_media_type",
                       f"Expected multipart/form-data but got {request.mimetype or 'no content type'!r}.",
                       hint="Upload the workbook as the form field 'workbook' (curl -F workbook=@book.xlsx).")
    upload = request.files.get("workbook")
    if upload is None or not upload.filename:
        raise field_error("workbook", "is required: upload the .xlsx/.xlsm file as the form field 'workbook'.")
    name = PurePath(upload.filename).name
    suffix = PurePath(name).suffix.lower()
    if suffix not in XLSX_TYPES:
        raise ApiError(415, "unsupported_workbook_type",
                       f"'{name}' is not an .xlsx or .xlsm workbook.",
                       hint="Save the workbook from Excel as .xlsx (Excel Workbook) and upload that.",
                       details={"field": "workbook"})
    data = upload.read()
    if not data:
        raise field_error("workbook", f"'{name}' is empty.")
    return data, name, suffix


def form_json_list(name: str, example: str) -> list:
    """A JSON list sent as a form field or as a file part."""
    raw = request.form.get(name)
    if raw is None and name in request.files:
        try:
            raw = request.files[name].read().decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ApiError(400, "invalid_json", f"Field '{name}' is not UTF-8 text (byte {err.start}).",
                           hint="Save the file as UTF-8.", details={"field": name}) from None
    if raw is None:
        raise field_error(name, "is required.", hint=f"Send it as a form field holding JSON, e.g. {example}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ApiError(400, "invalid_json", f"Field '{name}' is not valid JSON: {err.msg} at column {err.colno}.",
                       hint=f"e.g. {example}", details={"field": name}) from None
    except RecursionError:
        raise too_deep(f"Field '{name}'", name) from None
    if not isinstance(value, list) or not value:
        raise field_error(name, "must be a non-empty JSON list.", hint=f"e.g. {example}")
    return value


def safety_limits() -> dict:
    """The upload limit doubles as the workbook-size limit of the safety check."""
    return {"max_bytes": int(settings().max_upload_mb * 1024 * 1024)}


def _entry_text(entry: dict, key: str, index: int, name: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise field_error(f"{name}[{index}].{key}", "is required and must be a non-empty string.")
    return text_field(f"{name}[{index}].{key}", value, MAX_REQUEST_CHARS)   # a lone surrogate is a 400


@bp.post("/apply")
def apply():
    """The workbook back with the rules written as native conditional formats."""
    from cf_rules.excel.package import RuleApplication, apply_rules

    data, name, suffix = uploaded_workbook()
    example = '[{"rule": "LessThan(500)", "sheet": "Sheet1", "range": "B2:B20"}]'
    entries = form_json_list("rules", example)
    applications = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise field_error(f"rules[{index}]", "must be an object with rule, sheet and range.", hint=example)
        text = _entry_text(entry, "rule", index, "rules")
        try:
            rule, _ = pipeline.check_rule(text)
        except RuleError as err:
            raise _indexed(err, "rules", index) from None
        applications.append(RuleApplication(rule=rule, sheet=_entry_text(entry, "sheet", index, "rules"),
                                            cell_range=_entry_text(entry, "range", index, "rules"),
                                            style=parse_style(entry.get("style"), f"rules[{index}].style")
                                            or pipeline.style_from_request("")))
    limits = safety_limits()     # read here: the work runs outside the request context
    # checks the workbook first, and that it is the kind its name says (Excel refuses a mismatch)
    output = run_with_timeout(apply_rules, data, applications, kind=suffix[1:], work="apply", **limits)
    download = f"{PurePath(name).stem}-formatted{suffix}"
    response = send_file(BytesIO(output), mimetype=XLSX_TYPES[suffix], as_attachment=True, download_name=download)
    response.headers["X-CF-Rules-Applied"] = str(len(applications))
    return response


def _indexed(err: RuleError, name: str, index: int) -> ApiError:
    details = err.to_dict()
    code, message, hint = details.pop("code"), details.pop("message"), details.pop("hint", None)
    details["field"] = f"{name}[{index}]"
    return ApiError(422, code, f"{name}[{index}]: {message}", hint=hint, details=details)


@bp.post("/batch")
def batch():
    """Generate and apply the best rule for each (sheet, range, request); JSON with the report
    and the formatted workbook as base64 (one response the task pane can read and save)."""
    from ..batch import BatchItem, run_batch

    data, name, suffix = uploaded_workbook()
    example = '[{"sheet": "Sheet1", "range": "A1:D20", "request": "highlight sales under 500 in red"}]'
    entries = form_json_list("requests", example)
    limit = settings().max_batch_requests
    if len(entries) > limit:
        raise ApiError(413, "too_many_requests_in_batch", f"{len(entries)} requests; the limit is {limit}.",
                       hint="Split the batch or raise CF_MAX_BATCH_REQUESTS.")
    items = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise field_error(f"requests[{index}]", "must be an object with sheet, range and request.", hint=example)
        items.append(BatchItem(sheet=_entry_text(entry, "sheet", index, "requests"),
                               range=_entry_text(entry, "range", index, "requests"),
                               request=_entry_text(entry, "request", index, "requests")))
    k = optional_int(dict(request.form), "k", low=1, high=settings().max_k, default=min(5, settings().max_k))
    seed = optional_int(dict(request.form), "seed", low=0, high=2**31 - 1, default=None)
    generator = current_app.extensions["cf_models"].get("cf")
    limits = safety_limits()   # read here: the work runs outside the request context

    def work():   # run_batch checks the workbook (and its kind) before openpyxl reads the tables
        return run_batch(data, items, generator, k=k, seed=seed, progress=False, kind=suffix[1:], **limits)

    output, report = run_with_timeout(work, budget_factor=len(items))  # one budget per request
    download = f"{PurePath(name).stem}-formatted{suffix}"
    return jsonify({"report": report, "filename": download, "content_type": XLSX_TYPES[suffix],
                    "workbook_base64": base64.b64encode(output).decode("ascii")})

