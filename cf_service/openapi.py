"""The OpenAPI 3.0 document of the service, served at GET /openapi.json.

Built from Python so shared pieces (the error body, the table, the style) are written once;
tests validate it with openapi-spec-validator and check every route of the app is described.
"""
from __future__ import annotations

VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return {"$ref": f"#/components/responses/{description}"}


def _errors(*names: str) -> dict:
    codes = {"BadRequest": "400", "NotFound": "404", "PayloadTooLarge": "413", "UnsupportedMediaType": "415",
             "Unprocessable": "422", "ModelNotReady": "503", "Timeout": "504"}
    return {codes[name]: _error(name) for name in names}


def _body(schema_name: str, example: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema_name), "example": example}}}


SAMPLE_TABLE = [["Region", "Sales"], ["North", 420], ["South", 980], ["East", 310]]

_CELL = {"nullable": True, "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}
_HEX = {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$", "nullable": True, "example": "#FFC7CE"}

_PAINT_FIELDS = {
    "target": {"type": "string", "enum": ["cells", "rows", "column", "all"]},
    "column": {"type": "integer", "nullable": True, "minimum": 0,
               "description": "The painted column (0-based, table columns) for `cells` and `column`."},
    "column_name": {"type": "string", "nullable": True},
    "range": {"type": "string", "example": "E2:E23"},
    "rule": {"type": "string", "example": "GreaterThan(50000)"},
}

_PREVIEW = {
    "type": "object", "required": ["cells", "visual", "count"],
    "properties": {
        "cells": {"type": "array", "items": {"type": "string"}, "description": "A1 addresses formatted, row-major.",
                  "example": ["B2", "B4"]},
        "visual": {"type": "object", "additionalProperties": _ref("Visual")},
        "count": {"type": "integer", "minimum": 0},
    },
}

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code, e.g. invalid_json, "
                         "invalid_field, rule_syntax, table_error, workbook_corrupt, model_loading.",
                         "example": "invalid_field"},
                "message": {"type": "string", "description": "What is wrong and where.",
                            "example": "Field 'k': is 50; it must be from 1 to 10."},
                "hint": {"type": "string", "description": "How to fix it."},
                "field": {"type": "string", "description": "The request field at fault."},
                "position": {"type": "integer", "description": "rule_syntax: 0-based offset in the rule text."},
                "expected": {"type": "array", "items": {"type": "string"},
                             "description": "rule_syntax: what the parser expected at `position`."},
            },
            "additionalProperties": True}},
    },
    "Table": {
        "type": "array", "minItems": 1,
        "description": "Rows of cells, header row first. Placed with its header at A1 (data from row 2) "
                       "unless `address` says where it came from.",
        "items": {"type": "array", "items": _CELL},
        "example": SAMPLE_TABLE,
    },
    "Style": {
        "type": "object", "description": "Formatting of matching cells. Colours are #RRGGBB or null (unchanged).",
        "properties": {"fill": _HEX, "font_color": _HEX, "border": _HEX, "bold": {"type": "boolean"},
                       "italic": {"type": "boolean"}, "underline": {"type": "boolean"},
                       "strike": {"type": "boolean"}},
        "additionalProperties": False,
    },
    "StyleInput": {
        "description": "A Style object, or words such as \"bold green text\". Default: read from the request "
                       "text (\"in red\"), else Excel's light red fill with dark red text.",
        "oneOf": [_ref("Style"), {"type": "string", "maxLength": 200}],
    },
    "Visual": {
        "type": "object", "description": "How a visual rule draws one cell: colour scale {color}, "
                                         "data bar {bar 0..1, color}, icon set {icon, index}.",
        "properties": {"color": {"type": "string"}, "bar": {"type": "number", "minimum": 0, "maximum": 1},
                       "icon": {"type": "string"}, "index": {"type": "integer", "minimum": 0}},
    },
    "Preview": _PREVIEW,
    "OfficePayload": {
        "type": "object", "additionalProperties": True,
        "description": "What the task pane hands to Office.js: `range.conditionalFormats.add(type)` on `address`, "
                       "then the properties set on the sub-object of that type.",
    },
    "CfRule": {
        "type": "object", "required": ["rule", "explanation", "valid", "preview", "office", "excel_type"],
        "properties": {
            "rule": {"type": "string", "description": "Canonical rule text.", "example": "LessThan(500)"},
            "explanation": {"type": "string", "example": "Sales less than 500"},
            "valid": {"type": "boolean"},
            "preview": {**_PREVIEW, "nullable": True, "description": "null when no table was sent."},
            "office": _ref("OfficePayload"),
            "excel_type": {"type": "string", "example": "cellIs",
                           "description": "The native Excel rule type (OOXML cfRule type)."},
            "paint": {**_ref("Paint"), "description": "What the rule formats on the selection (absent when no "
                                                      "table rows were sent). `preview`, `office` and "
                                                      "`excel_type` are those of this paint."},
        },
    },
    "Paint": {
        "type": "object", "required": ["target", "range", "rule", "alternative"],
        "description": "What a rule paints (docs/rule_language.md, 'What a rule paints'). `target`: `cells` the "
                       "tested column's own cells, `rows` every cell of each matching row, `column` another "
                       "column's cells, `all` every cell of the range, each tested on its own value. `rule` and "
                       "`range` are the native rule that paints exactly that and the cells it is applied to: what "
                       "/v1/cf/apply and Office.js receive.",
        "properties": {**_PAINT_FIELDS, "alternative": {
            "type": "object", "nullable": True, "required": ["target", "range", "rule", "preview", "office"],
            "description": "The other reading when the request's wording does not decide (the pane's switch), "
                           "with its own preview, Office payload and excel type; null when there is none.",
            "properties": {**_PAINT_FIELDS, "preview": _ref("Preview"), "office": _ref("OfficePayload"),
                           "excel_type": {"type": "string"}}}},
    },
    "CfCandidate": {
        "allOf": [_ref("CfRule"), {
            "type": "object", "required": ["score", "equivalent", "sibling"],
            "properties": {
                "score": {"type": "number"},
                "sibling": {"type": "boolean",
                            "description": "True when the model did not write this rule: it is another reading "
                                           "of a rule the model wrote (same values, another comparison or text "
                                           "test), offered after the model's rules so that k candidates are shown."},
                "equivalent": {"type": "array", "items": {"type": "string"},
                               "description": "Lower-ranked rules merged into this one because they format "
                                              "exactly the same cells of the table the same way."},
            }}],
    },
    "Rejected": {
        "type": "object", "required": ["code", "error"],
        "properties": {"code": {"type": "string"}, "error": {"type": "object", "additionalProperties": True}},
        "description": "A generated code that is not a valid rule (dropped from the candidates).",
    },
    "CfGenerateRequest": {
        "type": "object", "required": ["request"],
        "properties": {
            "request": {"type": "string", "minLength": 1, "maxLength": 2000},
            "table": _ref("Table"),
            "k": {"type": "integer", "minimum": 1, "description": "Candidates wanted, 1..CF_MAX_K; default 5."},
            "steps": {"type": "integer", "minimum": 1, "description": "Sampling steps; default: the checkpoint's."},
            "seed": {"type": "integer", "minimum": 0, "description": "Sampling seed for repeatable answers."},
            "address": {"type": "string", "description": "Where the table sits in the sheet (header included), "
                        "e.g. 'Sheet1!C5:F20'; default A1."},
            "style": _ref("StyleInput"),
        },
    },
    "CfGenerateResponse": {
        "type": "object", "required": ["candidates", "style", "range", "rejected"],
        "properties": {
            "candidates": {"type": "array", "items": _ref("CfCandidate"), "description": "Best first."},
            "style": _ref("Style"),
            "range": {"type": "string", "description": "The data range the Office payloads target.",
                      "example": "A2:B4"},
            "rejected": {"type": "array", "items": _ref("Rejected")},
        },
    },
    "ValidateRequest": {
        "type": "object", "required": ["rule"],
        "properties": {"rule": {"type": "string", "minLength": 1, "maxLength": 2000},
                       "header": {"type": "array", "items": {"type": "string"},
                                  "description": "Column names, for the explanation."}},
    },
    "ValidateResponse": {
        "type": "object", "required": ["valid", "rule"],
        "description": "Always 200 for a well-formed request: valid true with the canonical rule, "
                       "or valid false with the syntax error (position, expected).",
        "properties": {
            "valid": {"type": "boolean"},
            "rule": {"type": "string", "description": "Canonical text when valid, else the input."},
            "explanation": {"type": "string"},
            "excel_type": {"type": "string"},
            "error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"},
                "position": {"type": "integer"}, "expected": {"type": "array", "items": {"type": "string"}}}},
        },
    },
    "PreviewRequest": {
        "type": "object", "required": ["rule", "table"],
        "properties": {"rule": {"type": "string"}, "table": _ref("Table"), "style": _ref("StyleInput"),
                       "address": {"type": "string"}},
    },
    "PreviewResponse": {
        "allOf": [_ref("CfRule"), {"type": "object", "required": ["style", "range"],
                                   "properties": {"style": _ref("Style"), "range": {"type": "string"}}}],
    },
    "ApplyForm": {
        "type": "object", "required": ["workbook", "rules"],
        "properties": {
            "workbook": {"type": "string", "format": "binary", "description": ".xlsx or .xlsm file."},
            "rules": {"type": "string", "description": "JSON list of {rule, sheet, range, style?}; range is "
                      "where the rule goes (data cells).",
                      "example": '[{"rule": "LessThan(500)", "sheet": "Sheet1", "range": "B2:B20"}]'},
        },
    },
    "BatchForm": {
        "type": "object", "required": ["workbook", "requests"],
        "properties": {
            "workbook": {"type": "string", "format": "binary"},
            "requests": {"type": "string", "description": "JSON list of {sheet, range, request}; range includes "
                         "the header row.",
                         "example": '[{"sheet": "Sheet1", "range": "A1:B20", "request": "sales under 500 in red"}]'},
            "k": {"type": "integer", "minimum": 1},
            "seed": {"type": "integer", "minimum": 0},
        },
    },
    "BatchResult": {
        "type": "object", "required": ["index", "sheet", "range", "request", "status"],
        "properties": {
            "index": {"type": "integer"}, "sheet": {"type": "string"}, "range": {"type": "string"},
            "request": {"type": "string"},
            "status": {"type": "string", "enum": ["applied", "no_valid_rule", "error"]},
            "chosen": {"type": "object", "nullable": True, "additionalProperties": True},
            "alternatives": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            "error": {"type": "object", "additionalProperties": True},
        },
    },
    "BatchResponse": {
        "type": "object", "required": ["report", "filename", "content_type", "workbook_base64"],
        "properties": {
            "report": {"type": "object", "required": ["requests", "applied", "failed", "results"], "properties": {
                "requests": {"type": "integer"}, "applied": {"type": "integer"}, "failed": {"type": "integer"},
                "results": {"type": "array", "items": _ref("BatchResult")}}},
            "filename": {"type": "string", "example": "book-formatted.xlsx"},
            "content_type": {"type": "string"},
            "workbook_base64": {"type": "string", "format": "byte",
                                "description": "The formatted workbook; the upload is not changed."},
        },
    },
    "CodeGenerateRequest": {
        "type": "object", "required": ["request"],
        "properties": {"request": {"type": "string", "minLength": 1, "maxLength": 2000},
                       "k": {"type": "integer", "minimum": 1}, "steps": {"type": "integer", "minimum": 1},
                       "seed": {"type": "integer", "minimum": 0}},
    },
    "CodeGenerateResponse": {
        "type": "object", "required": ["task", "candidates"],
        "properties": {
            "task": {"type": "string", "enum": ["bash", "python"]},
            "candidates": {"type": "array", "items": {
                "type": "object", "required": ["code", "score"],
                "properties": {"code": {"type": "string", "description": "Text only; never executed."},
                               "score": {"type": "number"}}}},
        },
    },
    "Health": {
        "type": "object", "required": ["status", "models"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "loading", "unavailable"]},
            "models": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": True},
                       "description": "Per task: checkpoint and load time, or loading/failed with the error."},
        },
    },
}

RESPONSES = {
    "BadRequest": _json(_ref("Error"), "Malformed JSON or a missing/invalid field (invalid_json, invalid_field)."),
    "NotFound": _json(_ref("Error"), "No such endpoint or task (not_found, unknown_task)."),
    "MethodNotAllowed": _json(_ref("Error"), "Wrong HTTP method (method_not_allowed); see the Allow header."),
    "PayloadTooLarge": _json(_ref("Error"), "Body, upload or table over the limits (payload_too_large, "
                                            "table_too_large, workbook_too_large)."),
    "UnsupportedMediaType": _json(_ref("Error"), "Wrong Content-Type or file type (unsupported_media_type, "
                                                 "unsupported_workbook_type)."),
    "Unprocessable": _json(_ref("Error"), "The rule, table or workbook cannot be used (rule_syntax, "
                                          "rule_unsupported, table_error, workbook_*)."),
    "ModelNotReady": _json(_ref("Error"), "The model is loading or failed to load (model_loading, "
                                          "model_unavailable); retry after Retry-After."),
    "Timeout": _json(_ref("Error"), "Generation exceeded CF_REQUEST_TIMEOUT_S (generation_timeout)."),
}

_STREAM_PARAMS = [
    {"name": "task", "in": "path", "required": True, "schema": {"type": "string", "enum": ["cf", "bash", "python"]}},
    {"name": "request", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 2000}},
    {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "steps", "in": "query", "description": "sampling steps of the answer, as for POST /generate.",
     "schema": {"type": "integer", "minimum": 1}},
    {"name": "seed", "in": "query", "description": "without one, the generator's fixed default: the same answer "
     "as POST /generate for the same request, table and k.", "schema": {"type": "integer", "minimum": 0}},
    {"name": "display_steps", "in": "query", "description": "steps of the display trajectory (default 24).",
     "schema": {"type": "integer", "minimum": 1, "maximum": 64}},
    {"name": "table", "in": "query", "description": "cf only: the table as URL-encoded JSON.",
     "schema": {"type": "string"}},
    {"name": "address", "in": "query", "description": "cf only: where the table sits.", "schema": {"type": "string"}},
    {"name": "style", "in": "query", "description": "cf only: style words.", "schema": {"type": "string"}},
]

_STREAM_DESCRIPTION = """The answer, then the model's denoising of it, so a client can show code emerging from noise:

    event: start   data: {"task", "request", "k", "steps", "display_steps"}
    event: answer  data: the body POST /v1/{task}/generate returns (cf: with previews), as soon as it exists
    event: step    data: {"step": 0, "t": 1199, "codes": ["...", "..."]}    (one per display step, sent as
                   computed: what the sampler's latent spells, one line per candidate of the answer; the
                   last has "final": true and its codes are exactly the answer's rules)
    event: result  data: the answer again (the stream is complete)
    event: error   data: {"error": {"code", "message", "hint"}}             (ends the stream)

Comment lines (": working") keep the connection checked while the answer is computed; the model stops
when the client goes away. Errors found before streaming starts are ordinary JSON error responses."""

PATHS = {
    "/healthz": {"get": {
        "tags": ["health"], "summary": "Readiness: 200 once every model is loaded",
        "responses": {"200": _json(_ref("Health"), "All models loaded."),
                      "503": _json(_ref("Health"), "Loading, or a model failed to load.")}}},
    "/v1/cf/generate": {"post": {
        "tags": ["cf"], "summary": "Natural language to ranked conditional-formatting rules",
        "requestBody": _body("CfGenerateRequest", {"request": "highlight sales under 500 in red",
                                                   "table": SAMPLE_TABLE, "k": 5}),
        "responses": {"200": _json(_ref("CfGenerateResponse"), "Candidates, best first, with previews."),
                      **_errors("BadRequest", "PayloadTooLarge", "UnsupportedMediaType", "Unprocessable",
                                "ModelNotReady", "Timeout")}}},
    "/v1/cf/validate": {"post": {
        "tags": ["cf"], "summary": "Check a rule; canonical form and explanation",
        "requestBody": _body("ValidateRequest", {"rule": "lessthan(500)", "header": ["Sales"]}),
        "responses": {"200": _json(_ref("ValidateResponse"), "Whether the rule is valid; why not if not."),
                      **_errors("BadRequest", "PayloadTooLarge", "UnsupportedMediaType")}}},
    "/v1/cf/preview": {"post": {
        "tags": ["cf"], "summary": "Which cells a rule formats on a table, and its Office.js payload",
        "requestBody": _body("PreviewRequest", {"rule": "LessThan(500)", "table": SAMPLE_TABLE}),
        "responses": {"200": _json(_ref("PreviewResponse"), "The preview."),
                      **_errors("BadRequest", "PayloadTooLarge", "UnsupportedMediaType", "Unprocessable")}}},
    "/v1/cf/apply": {"post": {
        "tags": ["cf"], "summary": "Write rules into a workbook as native conditional formats",
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _ref("ApplyForm")}}},
        "responses": {
            "200": {"description": "The formatted workbook (attachment <name>-formatted.xlsx); every other part of "
                                   "the workbook is kept byte for byte.",
                    "headers": {"X-CF-Rules-Applied": {"schema": {"type": "integer"}}},
                    "content": {
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                            {"schema": {"type": "string", "format": "binary"}},
                        "application/vnd.ms-excel.sheet.macroEnabled.12":
                            {"schema": {"type": "string", "format": "binary"}}}},
            **_errors("BadRequest", "PayloadTooLarge", "UnsupportedMediaType", "Unprocessable")}}},
    "/v1/cf/batch": {"post": {
        "tags": ["cf"], "summary": "Generate and apply the best rule for each (sheet, range, request)",
        "description": "Returns JSON (not a file) so a client gets the report and the workbook in one response; "
                       "decode workbook_base64 to save the file.",
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _ref("BatchForm")}}},
        "responses": {"200": _json(_ref("BatchResponse"), "The report and the formatted workbook."),
                      **_errors("BadRequest", "PayloadTooLarge", "UnsupportedMediaType", "Unprocessable",
                                "ModelNotReady", "Timeout")}}},
    "/v1/{task}/generate": {"post": {
        "tags": ["code"], "summary": "Natural language to Bash or Python (text only, never executed)",
        "parameters": [{"name": "task", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": ["bash", "python"]}}],
        "requestBody": _body("CodeGenerateRequest", {"request": "count lines in all .py files", "k": 3}),
        "responses": {"200": _json(_ref("CodeGenerateResponse"), "Candidates, best first."),
                      **_errors("BadRequest", "NotFound", "PayloadTooLarge", "UnsupportedMediaType",
                                "ModelNotReady", "Timeout")}}},
    "/v1/{task}/stream": {"get": {
        "tags": ["stream"], "summary": "The denoising, step by step (Server-Sent Events)",
        "description": _STREAM_DESCRIPTION, "parameters": _STREAM_PARAMS,
        "responses": {"200": {"description": "An event stream.",
                              "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      **_errors("BadRequest", "NotFound", "PayloadTooLarge", "Unprocessable", "ModelNotReady")}}},
    "/openapi.json": {"get": {
        "tags": ["meta"], "summary": "This document",
        "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.0 document.")}}},
    "/": {"get": {"tags": ["taskpane"], "summary": "Redirects to the task pane",
                  "responses": {"302": {"description": "To /taskpane/."}}}},
    "/taskpane": {"get": {"tags": ["taskpane"], "summary": "Redirects to /taskpane/",
                          "responses": {"301": {"description": "To /taskpane/."}}}},
    "/taskpane/": {"get": {
        "tags": ["taskpane"], "summary": "The add-in task pane (works in a plain browser on a sample sheet)",
        "responses": {"200": {"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    "/taskpane/{name}": {"get": {
        "tags": ["taskpane"], "summary": "Task pane assets (JS, CSS, icons)",
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The file."}, "404": _error("NotFound")}}},
    "/manifest.xml": {"get": {
        "tags": ["taskpane"], "summary": "The Office add-in manifest",
        "responses": {"200": {"description": "XML.",
                              "content": {"application/xml": {"schema": {"type": "string"}}}}}}},
}


def build_spec() -> dict:
    """A fresh copy of the document (callers may mutate it)."""
    import copy
    return copy.deepcopy({
        "openapi": "3.0.3",
        "info": {
            "title": "CodeFusion CF service", "version": VERSION,
            "description": "Natural language to Excel conditional-formatting rules (and Bash/Python code) for "
                           "the Excel add-in. Every error is JSON {\"error\": {\"code\", \"message\", \"hint\"?}}; "
                           "405 (method_not_allowed) can come from any path.",
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": n} for n in ("health", "cf", "code", "stream", "taskpane", "meta")],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "responses": RESPONSES},
    })
