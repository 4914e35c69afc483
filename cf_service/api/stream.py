"""GET /v1/{task}/stream: Server-Sent Events of the denoising, for the task pane's animation.

    event: start    {"task", "request", "k", "steps"}
    event: step     {"step": i, "t": timestep, "codes": [decoded code of each candidate]}   (one per step;
                    a last one with "restart": true when the model restarts its draws, model.restart)
    event: result   the same body as POST /v1/{task}/generate (for cf: with previews)
    event: error    {"error": {"code", "message", "hint"?}}   (then the stream ends)

Mistakes found before the first byte (bad query, unknown task, model not loaded) are ordinary
JSON errors with a 4xx/5xx status; after that, errors travel as an `error` event, because the
status line has already been sent. The generation budget CF_REQUEST_TIMEOUT_S covers the whole
stream; when it runs out the stream ends with an `error` event `generation_timeout`.
"""
from __future__ import annotations

import json
import logging
import queue
import secrets
import time
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, Response, current_app, request, stream_with_context

from .. import pipeline
from cf_rules.errors import RuleError
from cf_rules.runs import request_runs
from .cf import generation_options, optional_address
from ..errors import ApiError
from .common import field_error, optional_table, parse_style, require_text, settings, too_deep

log = logging.getLogger("cf_service.stream")

bp = Blueprint("stream", __name__, url_prefix="/v1")


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


def _query_body() -> dict:
    body = request.args.to_dict()
    if "table" in body:
        try:
            body["table"] = json.loads(body["table"])
        except json.JSONDecodeError as err:
            raise ApiError(400, "invalid_json", f"Query parameter 'table' is not valid JSON: {err.msg}.",
                           hint='URL-encode a JSON list of rows: [["Region","Sales"],["North",420]].',
                           details={"field": "table"}) from None
        except RecursionError:
            raise too_deep("Query parameter 'table'", "table") from None
    return body


@bp.get("/<any(cf, bash, python):task>/stream")
def stream(task: str):
    body = _query_body()
    text = require_text(body, "request")
    options = generation_options(body)
    if options["seed"] is None:
        # one seed for the animation and the final ranking, so the result is what was shown
        options["seed"] = secrets.randbelow(2**31)
    rows = optional_table(body) if task == "cf" else None
    if task != "cf" and body.get("table") is not None:
        raise field_error("table", f"is only used by the cf task, not {task}.")
    address = optional_address(body) if task == "cf" else None
    style = parse_style(body.get("style")) if task == "cf" else None
    placed = pipeline.place_table(rows, address) if task == "cf" else None
    table = placed.at_a1 if placed is not None else None   # converted once, not once per frame
    generator = current_app.extensions["cf_models"].get(task)
    timeout = settings().request_timeout_s
    executor = current_app.extensions["cf_executor"]

    def events():
        deadline = time.monotonic() + timeout
        yield sse("start", {"task": task, "request": text, "k": options["k"], "steps": options["steps"]})
        try:
            last = None
            frames = frames_until(deadline, executor, lambda: generator.stream(text, table=table, **options))
            for frame in frames:
                last = frame
                body = {"step": frame["step"], "t": frame.get("t"), "codes": list(frame["codes"])}
                if frame.get("restart"):
                    body["restart"] = True
                yield sse("step", body)
            # ranking may need a pass of its own: it gets what is left of the budget
            future = executor.submit(_final, task, generator, text, table, placed, style, last, options)
            yield sse("result", future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout:
            yield _timeout_event(timeout)
        except ApiError as err:
            yield sse("error", {"error": {"code": err.code, "message": err.message, "hint": err.hint}})
        except RuleError as err:
            yield sse("error", {"error": err.to_dict()})
        except ValueError as err:     # the generator's own argument checks
            yield sse("error", {"error": {"code": "invalid_request", "message": f"The model refused the request: {err}.",
                                          "hint": "Check k, steps and the request text."}})
        except Exception:  # noqa: BLE001 - the status line is sent; report in-band and log the bug
            log.exception("stream for %s failed", task)
            yield sse("error", {"error": {"code": "internal_error", "message": "Generation failed.",
                                          "hint": "Retry; if it persists, report it with the time of the request."}})

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"   # proxies: pass each event on at once
    return response


def frames_until(deadline: float, executor, make_frames):
    """The frames of `make_frames()`, produced in the generation pool and handed over as they come,
    so the wait for each one is bounded by the deadline (FutureTimeout when it passes; a generator
    that computes its whole trajectory before the first frame cannot hold the stream past it)."""
    handover: queue.Queue = queue.Queue()

    def pump():
        try:
            for frame in make_frames():
                handover.put(("frame", frame))
            handover.put(("done", None))
        except BaseException as err:  # noqa: BLE001 - re-raised on the streaming side
            handover.put(("error", err))

    executor.submit(pump)
    while True:
        try:
            kind, value = handover.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise FutureTimeout() from None
        if kind == "done":
            return
        if kind == "error":
            raise value
        yield value
        if time.monotonic() > deadline:
            raise FutureTimeout()


def _timeout_event(timeout: float) -> str:
    return sse("error", {"error": {"code": "generation_timeout",
                                   "message": f"Generation took longer than {timeout:g} s.",
                                   "hint": "Ask for fewer candidates (k) or steps, or raise CF_REQUEST_TIMEOUT_S."}})


def _final(task, generator, text, table, placed, style, last_frame, options) -> dict:
    """The ranked candidates at the end of the stream. A generator whose last frame carries its
    ranked `candidates` saves a second pass; otherwise its `generate` is asked with the same seed."""
    with request_runs():   # the previews reuse the executions of the model's ranking (rules/runs.py)
        if last_frame and last_frame.get("candidates") is not None:
            candidates = last_frame["candidates"]
        else:
            candidates = generator.generate(text, table=table, **options)
        if task != "cf":
            return {"task": task, "candidates": [{"code": c.code, "score": float(c.score)} for c in candidates]}
        style = style or pipeline.style_from_request(text)
        ranked, rejected = pipeline.rank_candidates(candidates, placed, style)
    return pipeline.finish(ranked, rejected, placed, style)
