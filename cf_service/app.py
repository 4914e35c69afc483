"""Flask app factory: settings, the generator registry, blueprints, JSON errors, request logging.

Every error leaves as JSON `{"error": {"code", "message", "hint"?}}`; caller mistakes get a 4xx
(bad JSON, unknown route, wrong method, upload too large, wrong content type, invalid rule or
table) and only real bugs can become a 500.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from cf_rules.errors import RuleError
from .access import AccessPolicy, install as install_access
from .api.common import error_response, http_error_code
from .errors import ApiError
from .generators import ModelRegistry
from .settings import Settings

log = logging.getLogger("cf_service")


def create_app(settings: Settings | None = None, *, registry: ModelRegistry | None = None,
               access: AccessPolicy | None = None) -> Flask:
    """Build the app. `registry` lets tests and tools hand in generators already loaded; `access`
    (default: from CF_ALLOWED_HOSTS, CF_ALLOWED_ORIGINS, CF_FRAME_ANCESTORS) says who may call it."""
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
                                 sampling=settings.sampling_overrides())
    app.extensions["cf_models"] = registry
    # generation runs here so a request can give up on it after CF_REQUEST_TIMEOUT_S (504)
    app.extensions["cf_executor"] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cf-generate")

    install_access(app, access or AccessPolicy.from_env())   # before any other check: a foreign page gets nothing
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
        status = 413 if code in ("workbook_too_large", "workbook_sheet_too_large") else 422
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
        if _is_body_read_error(err):
            # gunicorn's reader refused the body while the app read it (a chunk size 'ZZZ', a body
            # cut short): the caller's mistake, not a bug
            return error_response(400, "malformed_body", f"The request body could not be read ({err}).",
                                  hint="Send the body with a correct Content-Length or valid chunked encoding.")
        # a bug, not the caller's fault: log the traceback, tell the caller nothing internal
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "The service hit an unexpected error.",
                              hint="Retry; if it persists, report it with the time of the request.")


def _is_body_read_error(err: Exception) -> bool:
    """An error raised by the WSGI server's body reader (gunicorn.http.errors) or a connection
    that broke while the body was read."""
    return type(err).__module__.startswith("gunicorn.http") or isinstance(err, (ConnectionError, TimeoutError))


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
