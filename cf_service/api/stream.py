"""GET /v1/{task}/stream: Server-Sent Events of the denoising, for the task pane's animation.

    event: start    {"task", "request", "k", "steps", "display_steps"}
    event: answer   the same body as POST /v1/{task}/generate (for cf: with previews), as soon as it exists
    event: step     {"step": i, "t": timestep, "codes": [one code per candidate of the answer]}, one per step
                    of the display trajectory, sent as computed (the first, "noise": true, is the noise
                    draws before any step); the last one has "final": true and its
                    codes are exactly the answer's rules (Generator.display)
    event: result   the answer again: the stream is complete
    event: error    {"error": {"code", "message", "hint"?}}   (then the stream ends)

The answer is what POST /generate returns for the same request, table, k, steps and seed (no seed: the
generator's fixed default), so the pane can show it before the animation ends. The display trajectory
runs `display_steps` DDIM steps from the answer's own noise draws and each frame is what the model's
latent spells at that step (codefusion/sampling.py `display_trajectory`). A generator without `display`
(test doubles) streams its `stream` frames and then the result, with no answer event.

Mistakes found before the first byte (bad query, unknown task, model not loaded) are ordinary
JSON errors with a 4xx/5xx status; after that, errors travel as an `error` event, because the
status line has already been sent. The generation budget CF_REQUEST_TIMEOUT_S covers the whole
stream: when it runs out before the answer the stream ends with an `error` event `generation_timeout`;
when it runs out during the display, the display stops and the result follows.

When the client goes away the work stops: a comment line every HEARTBEAT_S while the answer is computed
lets the server notice a closed connection, and sampling and display check a flag between steps.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, Response, current_app, request, stream_with_context

from cf_rules.errors import RuleError
from cf_rules.runs import request_runs
from codefusion.limits import DISPLAY_STEPS, MAX_DISPLAY_STEPS

from .. import pipeline
from .cf import generation_options, optional_address
from .code import _shown as shown_code_candidates
from ..errors import ApiError
from .common import field_error, optional_int, optional_table, parse_style, require_text, settings, too_deep

log = logging.getLogger("cf_service.stream")

bp = Blueprint("stream", __name__, url_prefix="/v1")
HEARTBEAT_S = 1.0


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
    display_steps = optional_int(body, "display_steps", low=1, high=MAX_DISPLAY_STEPS, default=DISPLAY_STEPS)
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
    job = _Job(task, generator, text, table, placed, style, options, display_steps)

    def events():
        deadline = time.monotonic() + timeout
        try:
            yield sse("start", {"task": task, "request": text, "k": options["k"], "steps": options["steps"],
                                "display_steps": display_steps})
            if hasattr(generator, "display"):
                yield from _answer_then_display(job, executor, deadline)
            else:
                yield from _frames_then_result(job, executor, deadline)
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
        finally:   # also when the client went away (the server closes this generator): stop the model
            job.cancel.set()

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"   # proxies: pass each event on at once
    return response


class _Job:
    """One stream's request, and the flag that stops its model work."""

    def __init__(self, task, generator, text, table, placed, style, options, display_steps):
        self.task, self.generator, self.text, self.table = task, generator, text, table
        self.placed, self.style, self.options, self.display_steps = placed, style, options, display_steps
        self.cancel = threading.Event()


def _answer_then_display(job: _Job, executor, deadline: float):
    future = executor.submit(_answer, job)
    while True:   # the answer; a heartbeat now and then, so a closed connection is noticed while waiting
        try:
            body = future.result(timeout=max(0.0, min(HEARTBEAT_S, deadline - time.monotonic())))
            break
        except FutureTimeout:
            if time.monotonic() >= deadline:
                raise
            yield ": working\n\n"
    yield sse("answer", body)
    key = "rule" if job.task == "cf" else "code"
    shown = [c[key] for c in body["candidates"]]
    frames = frames_until(deadline, executor, lambda: job.generator.display(
        job.text, shown, table=job.table, k=job.options["k"], seed=job.options["seed"],
        display_steps=job.display_steps, should_stop=job.cancel.is_set), job.cancel)
    try:
        for frame in frames:
            yield sse("step", _step_body(frame))
    except FutureTimeout:   # out of time while showing: the answer stands
        job.cancel.set()
    yield sse("result", body)


def _answer(job: _Job) -> dict:
    with request_runs():   # the previews reuse the executions of the model's ranking (rules/runs.py)
        candidates = job.generator.generate(job.text, table=job.table, should_stop=job.cancel.is_set, **job.options)
        return _body(job, candidates)


def _frames_then_result(job: _Job, executor, deadline: float):
    last = None
    for frame in frames_until(deadline, executor, lambda: job.generator.stream(job.text, table=job.table,
                                                                               **job.options), job.cancel):
        last = frame
        yield sse("step", _step_body(frame))
    # ranking may need a pass of its own: it gets what is left of the budget
    future = executor.submit(_final, job, last)
    yield sse("result", future.result(timeout=max(0.0, deadline - time.monotonic())))


def _step_body(frame: dict) -> dict:
    body = {"step": frame["step"], "t": frame.get("t"), "codes": list(frame["codes"])}
    for flag in ("noise", "restart", "final"):
        if frame.get(flag):
            body[flag] = True
    return body


def frames_until(deadline: float, executor, make_frames, cancel: threading.Event | None = None):
    """The frames of `make_frames()`, produced in the generation pool and handed over as they come,
    so the wait for each one is bounded by the deadline (FutureTimeout when it passes; a generator
    that computes its whole trajectory before the first frame cannot hold the stream past it).
    `cancel` set (by the caller, or here when the consumer stops early) ends the production at the
    next frame."""
    handover: queue.Queue = queue.Queue()
    cancel = cancel if cancel is not None else threading.Event()

    def pump():
        frames = make_frames()
        try:
            for frame in frames:
                if cancel.is_set():
                    break
                handover.put(("frame", frame))
            handover.put(("done", None))
        except BaseException as err:  # noqa: BLE001 - re-raised on the streaming side
            # stopped on request (sampling.SamplingStopped): nobody waits for an error
            handover.put(("done", None) if cancel.is_set() else ("error", err))
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    executor.submit(pump)
    try:
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
    finally:
        cancel.set()


def _timeout_event(timeout: float) -> str:
    return sse("error", {"error": {"code": "generation_timeout",
                                   "message": f"Generation took longer than {timeout:g} s.",
                                   "hint": "Ask for fewer candidates (k) or steps, or raise CF_REQUEST_TIMEOUT_S."}})


def _final(job: _Job, last_frame) -> dict:
    """The ranked candidates at the end of a `stream`. A generator whose last frame carries its
    ranked `candidates` saves a second pass; otherwise its `generate` is asked with the same seed."""
    with request_runs():
        if last_frame and last_frame.get("candidates") is not None:
            candidates = last_frame["candidates"]
        else:
            candidates = job.generator.generate(job.text, table=job.table, **job.options)
        return _body(job, candidates)


def _body(job: _Job, candidates) -> dict:
    """The POST /generate body for the generator's candidates (inside the caller's request_runs)."""
    if job.task != "cf":
        return {"task": job.task, "candidates": shown_code_candidates(job.task, candidates)}
    style = job.style or pipeline.style_from_request(job.text)
    ranked, rejected = pipeline.rank_candidates(candidates, job.placed, style)
    return pipeline.finish(ranked, rejected, job.placed, style)
