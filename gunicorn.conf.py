"""gunicorn settings for `gunicorn cf_service:app` (this file is read from the working directory).

Environment:
    CF_BIND                 address to listen on              (default 127.0.0.1:8000)
    CF_WORKERS              worker processes                  (default 1: each holds its own copy of the models)
    CF_THREADS              threads per worker (gthread)      (default 4: SSE streams hold a thread each)
    CF_HEADER_TIMEOUT_S     a request's headers must arrive within this (default 5)
    CF_READ_TIMEOUT_S       a whole request, body included, within this (default 60)
    CF_WRITE_TIMEOUT_S      one response write may block this long (default 60)
    CF_TORCH_THREADS        torch intra-op threads per worker (default: the cores shared among the
                            workers, at least 1; sets OMP_NUM_THREADS)
    CF_WORKER_TIMEOUT_S     kill a worker silent this long    (default CF_REQUEST_TIMEOUT_S + 30)
    CF_GUNICORN_PRELOAD     load the app (and models) once in the master before forking (default 1)
    CF_ACCESS_LOG           1 to add gunicorn's access log (the app already logs each request)
    CF_CONTROL_SOCKET       path of gunicorn's control socket (gunicorn >= 24); off by default, because
                            every gunicorn on a machine would otherwise share ~/.gunicorn/gunicorn.ctl
The app's own settings (CF_SERVICE_CHECKPOINTS, CF_MAX_K, ...) are read by cf_service.settings.Settings.
"""
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number") from None


bind = os.environ.get("CF_BIND", "127.0.0.1:8000")
workers = _int("CF_WORKERS", 1)
# Before torch is imported by the app: the workers share the cores instead of each grabbing all of them.
# One worker on the 2-core machine thus samples on both (HTTP p50 ~100 ms against ~150 ms on one core).
_torch_threads = _int("CF_TORCH_THREADS", max(1, (os.cpu_count() or 1) // max(1, workers)))
os.environ.setdefault("OMP_NUM_THREADS", str(_torch_threads))
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
# gthread whose reads have deadlines (cf_service/slow_clients.py): a client that trickles its
# request in is disconnected after CF_HEADER_TIMEOUT_S / CF_READ_TIMEOUT_S instead of holding a thread
worker_class = "cf_service.slow_clients.BoundedThreadWorker"
threads = _int("CF_THREADS", 4)
_request_timeout = float(os.environ.get("CF_REQUEST_TIMEOUT_S", "60") or 60)
timeout = _int("CF_WORKER_TIMEOUT_S", int(_request_timeout) + 30)
graceful_timeout = 30
keepalive = 5
# preload: the models are read once in the master and shared copy-on-write by the workers
preload_app = os.environ.get("CF_GUNICORN_PRELOAD", "1").strip().lower() not in {"0", "false", "no", "off"}
accesslog = "-" if os.environ.get("CF_ACCESS_LOG", "0").strip() in {"1", "true", "yes", "on"} else None
errorlog = "-"
loglevel = os.environ.get("CF_LOG_LEVEL", "info").lower()
_control = os.environ.get("CF_CONTROL_SOCKET", "").strip()
control_socket_disable = not _control
if _control:
    control_socket = _control
# Bodies are limited by the app (CF_MAX_UPLOAD_MB). The SSE endpoint carries the request and its
# table in the query string (EventSource can only GET), and a request the app accepts (2000 CJK
# characters, a table) is longer than gunicorn's 8190-byte maximum once URL-encoded: 0 lifts
# that maximum to gunicorn's own 1 MB cap (gunicorn >= 23); the app then checks every field.
limit_request_line = 0
limit_request_fields = 100


def post_fork(server, worker):
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(_torch_threads)
