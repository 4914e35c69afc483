"""What every blueprint shares: the JSON error shape, request-body checks, and the generation timeout.

Field checks raise `ApiError` with a stable `code`, a message that names the field and what is
wrong, and a hint that says how to fix it; the app turns it into `{"error": {...}}`.
"""
from __future__ import annotations

import json
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, fields

from flask import current_app, jsonify, request

from cf_rules.errors import RuleError
from cf_rules.excel.styles import Style, style_from_request
from ..errors import ApiError

MAX_REQUEST_CHARS = 2000


def error_response(status: int, code: str, message: str, *, hint: str | None = None, details: dict | None = None):
    error = {"code": code, "message": message}
    if hint:
        error["hint"] = hint
    if details:
        error.update(details)
    response = jsonify({"error": error})
    response.status_code = status
    return response


_HTTP_CODES = {
    400: ("bad_request", "The request could not be understood.", None),
    404: ("not_found", "No endpoint at {path}.", "See GET /openapi.json for the endpoints."),
    405: ("method_not_allowed", "{method} is not allowed on {path}.", "See GET /openapi.json for the methods."),
    413: ("payload_too_large", "The request body is larger than the {limit} limit.",
          "Send a smaller workbook or table, or raise CF_MAX_UPLOAD_MB."),
    415: ("unsupported_media_type", "Unsupported content type.", None),
}


def http_error_code(err, req, max_bytes: int) -> tuple[str, str, str | None]:
    """(code, message, hint) for one of werkzeug's HTTP exceptions."""
    code, message, hint = _HTTP_CODES.get(err.code, (None, None, None))
    if err.code == 413 and req.content_length is not None and max_bytes and req.content_length <= max_bytes:
        # the body is within the limit: one text field of a multipart form is over the form-field limit
        field_limit = current_app.config.get("MAX_FORM_MEMORY_SIZE") or 500_000
        return ("form_field_too_large", f"A form field is larger than the {field_limit / 1e6:g} MB a text field may hold.",
                "Send large JSON as a file part instead (curl -F rules=@rules.json).")
    if code is None:
        name = (err.name or "error").lower().replace(" ", "_")
        return name, err.description or err.name, None
    limit = f"{max_bytes / (1024 * 1024):g} MB" if max_bytes else "configured"
    return code, message.format(path=req.path, method=req.method, limit=limit), hint


# ---------------------------------------------------------------- request bodies

def json_body() -> dict:
    """The request's JSON object, or a 415 (not JSON) / 400 (malformed, not an object)."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       (f"Expected a JSON body but got Content-Type {request.content_type!r}." if request.content_type
                        else "Expected a JSON body but the request has no Content-Type."),
                       hint="Send the body as JSON with 'Content-Type: application/json'.")
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit and len(raw) >= limit:
        # a chunked body is cut at the limit by the reader; say so instead of "unterminated string"
        raise ApiError(413, "payload_too_large", f"The request body is larger than the {limit / (1024 * 1024):g} MB limit.",
                       hint="Send a smaller table, or raise CF_MAX_UPLOAD_MB.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The body is not UTF-8 text.",
                       hint="Encode the JSON body as UTF-8.") from None
    except json.JSONDecodeError as err:
        raise ApiError(400, "invalid_json",
                       f"The body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}.",
                       hint="Check quotes, commas and brackets.", details={"position": err.pos}) from None
    except RecursionError:
        raise too_deep("The body") from None
    except ValueError as err:   # an integer past Python's 4300-digit conversion limit
        raise ApiError(400, "invalid_json", f"The body holds a number that cannot be read: {err}.",
                       hint="Excel numbers have at most 15 significant digits; send longer ones as text.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", f"The body must be a JSON object, not {type(body).__name__}.",
                       hint='Send an object such as {"request": "highlight sales under 500 in red"}.')
    return body


def too_deep(what: str, field: str | None = None) -> ApiError:
    return ApiError(400, "invalid_json", f"{what} nests lists/objects too deeply to read.",
                    hint="Send plain rows of cells; no request needs more than a few levels of nesting.",
                    details={"field": field} if field else None)


def field_error(name: str, message: str, hint: str | None = None) -> ApiError:
    return ApiError(400, "invalid_field", f"Field '{name}': {message}", hint=hint, details={"field": name})


def require_text(body: dict, name: str, *, max_chars: int = MAX_REQUEST_CHARS, example: str = "") -> str:
    if name not in body or body[name] is None:
        raise field_error(name, "is required.", hint=f'Add "{name}": {json.dumps(example or "...")} to the body.')
    return text_field(name, body[name], max_chars)


def text_field(name: str, value, max_chars: int) -> str:
    if not isinstance(value, str):
        raise field_error(name, f"must be a string, not {_json_type(value)}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: valid JSON escapes, but no text a model can read
        raise field_error(name, f"holds a character that is not valid Unicode text at position {exc.start}.",
                          hint="Remove unpaired surrogate escapes such as \\ud800 from the text.") from None
    value = value.strip()
    if not value:
        raise field_error(name, "must not be empty.")
    if len(value) > max_chars:
        raise field_error(name, f"is {len(value)} characters long; the limit is {max_chars}.",
                          hint="Shorten it.")
    return value


def optional_int(body: dict, name: str, *, low: int, high: int, default: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():   # query strings arrive as text
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(name, f"must be a whole number, not {_json_type(value)}.",
                          hint=f"Use a whole number from {low} to {high}.")
    if not low <= value <= high:
        raise field_error(name, f"is {value}; it must be from {low} to {high}.",
                          hint=f"Use a whole number from {low} to {high}.")
    return value


def optional_table(body: dict, name: str = "table") -> list[list] | None:
    """A JSON table `[[header...], [row...], ...]`: checked for shape and size here, coerced by the
    rule language's `table_from_json` (which raises TableError, a 422, for what it cannot read)."""
    value = body.get(name)
    if value is None:
        return None
    hint = 'Send rows as a list of lists, header first: [["Region","Sales"],["North",420]].'
    if not isinstance(value, list) or not value:
        raise field_error(name, "must be a non-empty list of rows (header row first).", hint=hint)
    cells = 0
    for index, row in enumerate(value):
        if not isinstance(row, list):
            raise field_error(name, f"row {index} is {_json_type(row)}, not a list of cells.", hint=hint)
        for col, cell in enumerate(row):
            if cell is not None and not isinstance(cell, (str, int, float, bool)):
                raise field_error(name, f"cell [{index}][{col}] is {_json_type(cell)}; cells must be "
                                        "strings, numbers, booleans or null.", hint=hint)
        cells += len(row)
    limit = current_app.config["CF_SETTINGS"].max_table_cells
    if cells > limit:
        raise ApiError(413, "table_too_large", f"The table has {cells} cells; the limit is {limit}.",
                       hint="Send fewer rows (a sample is enough for the preview) or raise CF_MAX_TABLE_CELLS.")
    return value


_STYLE_FIELDS = {f.name for f in fields(Style)}


def parse_style(value, name: str = "style") -> Style | None:
    """A style from a dict of Style fields ({"fill": "#FFC7CE", "bold": true}) or words ("bold red text")."""
    if value is None:
        return None
    if isinstance(value, str):
        return style_from_request(text_field(name, value, 200))
    if not isinstance(value, dict):
        raise field_error(name, f"must be an object or a string, not {_json_type(value)}.",
                          hint='Use {"fill": "#FFC7CE", "font_color": "#9C0006"} or words like "bold green text".')
    unknown = sorted(set(value) - _STYLE_FIELDS)
    if unknown:
        raise field_error(name, f"unknown key(s) {unknown}.", hint=f"Use only {sorted(_STYLE_FIELDS)}.")
    cleaned = {}
    for key, item in value.items():
        if key in {"fill", "font_color", "border"}:
            if item is not None and not isinstance(item, str):
                raise field_error(name, f"'{key}' must be '#RRGGBB' or null.")
            cleaned[key] = item.upper() if isinstance(item, str) else None
        else:
            if not isinstance(item, bool):
                raise field_error(name, f"'{key}' must be true or false.")
            cleaned[key] = item
    try:
        return Style(**cleaned)
    except ValueError as err:
        raise field_error(name, str(err), hint="Colours are hex like '#FFC7CE'.") from None


def style_to_dict(style: Style) -> dict:
    return asdict(style)


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---------------------------------------------------------------- models and time limits

def settings():
    return current_app.config["CF_SETTINGS"]


def run_with_timeout(fn, *args, budget_factor: int = 1, work: str = "generation", **kwargs):
    """Run `fn` in the work pool; a 504 if it takes longer than CF_REQUEST_TIMEOUT_S (times
    `budget_factor` for work made of several generations, such as a batch). Generation, previews,
    applies and batches all run under this budget. `work` names it in the 504.

    Python cannot stop a running call, so a timed-out one finishes in the background and its
    result is dropped; the caller gets its answer (the 504) on time. What bounds that background
    work is each step's own budget (the formula cell-read cap, the workbook part caps).
    """
    timeout = settings().request_timeout_s * max(1, budget_factor)
    future = current_app.extensions["cf_executor"].submit(fn, *args, **kwargs)
    try:
        return future.result(timeout=timeout)
    except RuleError:
        raise                         # a ValueError too, but the app answers it with its own 422
    except ValueError as err:
        if work != "generation":
            raise
        # the generator checks its arguments (k, steps, request) with ValueError
        raise ApiError(400, "invalid_request", f"The model refused the request: {err}.",
                       hint="Check k, steps and the request text.") from None
    except FutureTimeout:
        future.cancel()
        if work == "generation":
            raise ApiError(504, "generation_timeout", f"Generation took longer than {timeout:g} s.",
                           hint="Ask for fewer candidates (k) or fewer steps, or raise CF_REQUEST_TIMEOUT_S.") from None
        raise ApiError(504, "request_timeout", f"The {work} took longer than {timeout:g} s.",
                       hint="Send a smaller table or workbook, or raise CF_REQUEST_TIMEOUT_S.") from None
