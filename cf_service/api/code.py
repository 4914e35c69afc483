"""POST /v1/bash/generate and /v1/python/generate: code as text, ranked, never executed.

Only candidates that parse (bashlex for Bash, `ast` for Python) are returned, one per distinct program,
best first; each carries the generator's calibrated `confidence` (0-1) and its `origin` ("model",
"neighbour": a similar training request's code with this request's arguments, or "both").
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .cf import generation_options
from .common import json_body, require_text, run_with_timeout

bp = Blueprint("code", __name__, url_prefix="/v1")

EXAMPLES = {"bash": "list all files larger than 10 MB", "python": "reverse a list of numbers"}


def _shown(task: str, candidates) -> list[dict]:
    """The candidates as the response lists them: parsing ones only, first of each code kept."""
    from codefusion.tasks import get_task
    adapter = get_task(task)
    parses = getattr(adapter, "parses", None)
    out, seen = [], set()
    for c in candidates:
        code = c.code.strip()
        if not code or code in seen or (parses is not None and not parses(code)):
            continue
        seen.add(code)
        item = {"code": code, "score": float(c.score)}
        if getattr(c, "confidence", None) is not None:
            item["confidence"] = float(c.confidence)
        if getattr(c, "origin", None):
            item["origin"] = c.origin
        out.append(item)
    return out


@bp.post("/<any(bash, python):task>/generate")
def generate(task: str):
    body = json_body()
    text = require_text(body, "request", example=EXAMPLES[task])
    options = generation_options(body)
    generator = current_app.extensions["cf_models"].get(task)

    def work():
        return generator.generate(text, table=None, **options)

    candidates = run_with_timeout(work)
    return jsonify({"task": task, "candidates": _shown(task, candidates)})
