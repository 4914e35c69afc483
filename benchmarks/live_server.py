"""A real gunicorn serving `cf_service:app` on a free loopback port, for benchmarks, the soak
and the worker-fault tests. Started and stopped by the caller; nothing is left running.

    with LiveServer(workers=2, env={"CF_REQUEST_TIMEOUT_S": "5"}) as server:
        status, body = server.request("GET", "/healthz")
        server.worker_pids(), server.rss_kib(pid)

Only 127.0.0.1 is ever bound or contacted.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (Linux /proc), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def pss_kib(pid: int) -> int:
    """Proportional set size in KiB: shared pages (e.g. models preloaded by gunicorn's arbiter and
    shared copy-on-write) divided among the processes sharing them; 0 when unavailable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers when `pid` is the arbiter)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return sorted(int(p) for p in f.read().split())
    except FileNotFoundError:
        return []


class LiveServer:
    """gunicorn in a child process serving `app` (module:variable). `env` adds CF_* settings; `ready_timeout_s` bounds the wait
    for /healthz to answer 200 (model loading included)."""

    def __init__(self, *, app: str = "cf_service:app", workers: int = 1, threads: int | None = None, env: dict | None = None,
                 ready_timeout_s: float = 180.0, worker_timeout_s: int | None = None):
        self.port = free_port()
        self.app = app
        self.workers = workers
        self.threads = threads
        self.extra_env = dict(env or {})
        self.ready_timeout_s = ready_timeout_s
        self.worker_timeout_s = worker_timeout_s
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None

    # ------------------------------------------------------------ lifecycle

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "gunicorn"]
        conf = REPO_ROOT / "gunicorn.conf.py"
        if conf.exists():
            cmd += ["-c", str(conf)]
        # command-line options override the config file: loopback only, our port and sizes
        cmd += ["--bind", f"{HOST}:{self.port}", "--workers", str(self.workers)]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        if self.worker_timeout_s:
            cmd += ["--timeout", str(self.worker_timeout_s)]
        return cmd + [self.app]

    def start(self) -> "LiveServer":
        env = dict(os.environ)
        env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"})
        env.update(self.extra_env)
        log = tempfile.NamedTemporaryFile(prefix="cf_gunicorn_", suffix=".log", delete=False)
        self.log_path = Path(log.name)
        self.proc = subprocess.Popen(self.command(), cwd=REPO_ROOT, env=env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, body = self.request("GET", "/healthz", timeout=5)
                last = f"{status} {body}"
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError as err:
                last = repr(err)
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"server not ready after {self.ready_timeout_s:.0f} s (last: {last}):\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)      # graceful: workers finish, arbiter exits
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group only
            self.proc.wait(timeout=10)

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ inspection

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def arbiter_pid(self) -> int:
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        return child_pids(self.proc.pid)

    def rss_kib(self, pid: int) -> int:
        return rss_kib(pid)

    def log_tail(self, n_chars: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-n_chars:]

    # ------------------------------------------------------------ requests

    def connection(self, timeout: float = 120.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    def request(self, method: str, path: str, body=None, *, headers=None, timeout: float = 120.0,
                conn: http.client.HTTPConnection | None = None):
        """(status, parsed JSON or raw text). `body`: dict -> JSON, bytes -> as is."""
        return send(conn or self.connection(timeout), method, path, body, headers=headers, close=conn is None)


def send(conn: http.client.HTTPConnection, method: str, path: str, body=None, *, headers=None, close=False):
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        if close:
            conn.close()
    text = raw.decode("utf-8", errors="replace")
    if "json" in (response.getheader("Content-Type") or ""):
        try:
            return response.status, json.loads(text)
        except ValueError:
            pass
    return response.status, text


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def add_server_options(parser) -> None:
    """The options every script that starts its own gunicorn shares: which app, which models."""
    parser.add_argument("--app", default="cf_service:app",
                        help="WSGI app to serve; tests.reliability.slow_app:app serves stand-in generators "
                             "(with CF_FAKE_SECONDS_PER_STEP=0: the service's own overhead, no model)")
    parser.add_argument("--checkpoints", default=None,
                        help="folder holding cf/, bash/, python/ (default: the shipped checkpoints/)")


def write_json(path: str | None, figures: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(figures, indent=2) + "\n")
        print(f"wrote {path}")
