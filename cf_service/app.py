"""Flask app factory: settings from the environment, blueprints, JSON errors, request logging.

Every error leaves as JSON `{"error": {"code", "message", "hint"?}}`; caller mistakes get a 4xx
(bad JSON, unknown route, wrong method, upload too large, wrong content type, invalid rule or
table) and only real bugs can become a 500.
"""
from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from .api.common import ApiError, error_response, http_error_code
from .models import ModelRegistry
from cf_rules.errors import RuleError

log = logging.getLogger("cf_service")

REPO_ROOT = Path(__file__).resolve().parent.parent
TASKS = ("cf", "bash", "python")


def _env_int(env, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer; set it to a whole number in {low}..{high}") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range; set it to a whole number in {low}..{high}")
    return value


def _env_float(env, name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; set it to a number in {low}..{high}") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range; set it to a number in {low}..{high}")
    return value


def _env_bool(env, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


@dataclass(frozen=True)
class Settings:
    """Service settings; `Settings.from_env()` reads them from CF_* environment variables."""
    checkpoints: Path | None = None      # CF_SERVICE_CHECKPOINTS: folder holding cf/, bash/, python/
    tasks: tuple[str, ...] = TASKS       # CF_TASKS: which generators to load, comma separated
    max_k: int = 10                      # CF_MAX_K: largest k a caller may ask for
    max_table_cells: int = 20_000        # CF_MAX_TABLE_CELLS: largest table (header included)
    max_upload_mb: float = 20.0          # CF_MAX_UPLOAD_MB: largest request body / workbook upload
    request_timeout_s: float = 60.0      # CF_REQUEST_TIMEOUT_S: generation budget before a 504
    preload_models: bool = True          # CF_PRELOAD_MODELS: load in create_app (else in the background)
    max_batch_requests: int = 200        # CF_MAX_BATCH_REQUESTS: requests in one /v1/cf/batch upload
    log_level: str = "INFO"              # CF_LOG_LEVEL
    restarts: int | None = None          # CF_RESTARTS: restarts per draw, 0 = off (unset: the checkpoint's; cf: 1)
    taskpane_dir: Path = field(default_factory=lambda: REPO_ROOT / "addin_manifest" / "taskpane")

    @classmethod
    def from_env(cls, env=None) -> "Settings":
        env = os.environ if env is None else env
        checkpoints = env.get("CF_SERVICE_CHECKPOINTS") or None
        tasks = tuple(t.strip() for t in env.get("CF_TASKS", ",".join(TASKS)).split(",") if t.strip())
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"CF_TASKS names unknown task(s) {unknown}; choose from {list(TASKS)}")
        level = env.get("CF_LOG_LEVEL", "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"CF_LOG_LEVEL={level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return cls(
            checkpoints=Path(checkpoints) if checkpoints else None,
            tasks=tasks,
            max_k=_env_int(env, "CF_MAX_K", cls.max_k, 1, 64),   # 64: the generator's own limit
            max_table_cells=_env_int(env, "CF_MAX_TABLE_CELLS", cls.max_table_cells, 1, 10_000_000),
            max_upload_mb=_env_float(env, "CF_MAX_UPLOAD_MB", cls.max_upload_mb, 0.001, 1024),
            request_timeout_s=_env_float(env, "CF_REQUEST_TIMEOUT_S", cls.request_timeout_s, 0.01, 3600),
            preload_models=_env_bool(env, "CF_PRELOAD_MODELS", cls.preload_models),
            max_batch_requests=_env_int(env, "CF_MAX_BATCH_REQUESTS", cls.max_batch_requests, 1, 100_000),
            log_level=level,
            restarts=_env_int(env, "CF_RESTARTS", cls.restarts, 0, 4),
            taskpane_dir=Path(env.get("CF_TASKPANE_DIR") or REPO_ROOT / "addin_manifest" / "taskpane"),
        )


def _restart_overrides(restarts: int | None) -> dict:
    """CF_RESTARTS as generator overrides: unset keeps the checkpoint's sampling, 0 turns restarts off
    (faster, fewer distinct candidates), N restarts each draw N times where the model restarts at all."""
    if restarts is None:
        return {}
    return {"restart_t": 0} if restarts == 0 else {"restarts": restarts}


def create_app(settings: Settings | None = None, *, registry: ModelRegistry | None = None) -> Flask:
    """Build the app. `registry` lets tests and tools hand in generators already loaded."""
    settings = settings or Settings.from_env()
    _configure_logging(settings.log_level)

    app = Flask(__name__, static_folder=None)
    app.config["CF_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = int(settings.max_upload_mb * 1024 * 1024)
    app.json.sort_keys = False
    # ASCII-escaped JSON: a lone surrogate echoed from the request (valid in JSON input, not in
    # UTF-8) must not break the response
    app.json.ensure_ascii = True

    if registry is None:
        registry = ModelRegistry(settings.tasks, checkpoint_root=settings.checkpoints,
                                 sampling=_restart_overrides(settings.restarts))
    app.extensions["cf_models"] = registry
    # generation runs here so a request can give up on it after CF_REQUEST_TIMEOUT_S (504)
    app.extensions["cf_executor"] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cf-generate")

    from .api import register_blueprints
    register_blueprints(app)
    _register_error_handlers(app)
    _register_request_logging(app)

    if settings.preload_models:
        registry.load_all()
    else:
        # load in this process's background once it serves its first request; /healthz says
        # "loading" until then (a thread started before gunicorn forks would not survive the fork)
        @app.before_request
        def _load_models_in_background():
            registry.start_background_load()
    return app


def _configure_logging(level: str) -> None:
    log.setLevel(level)
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err.status, err.code, err.message, hint=err.hint, details=err.details)

    @app.errorhandler(RuleError)
    def _rule_error(err: RuleError):
        body = err.to_dict()
        code, message, hint = body.pop("code"), body.pop("message"), body.pop("hint", None)
        status = 413 if code == "workbook_too_large" else 422
        return error_response(status, code, message, hint=hint, details=body or None)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        code, message, hint = http_error_code(err, request, app.config["MAX_CONTENT_LENGTH"])
        response = error_response(status, code, message, hint=hint)
        if status == 405 and getattr(err, "valid_methods", None):
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        # a bug, not the caller's fault: log the traceback, tell the caller nothing internal
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "The service hit an unexpected error.",
                              hint="Retry; if it persists, report it with the time of the request.")


def _register_request_logging(app: Flask) -> None:
    @app.before_request
    def _start_timer():
        g.cf_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.get("cf_started")
        ms = (time.perf_counter() - started) * 1000 if started else 0.0
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, ms)
        return response
