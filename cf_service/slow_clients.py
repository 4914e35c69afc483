"""A gunicorn gthread worker whose threads slow clients cannot hold.

gunicorn's gthread worker hands a connection to a thread once its first bytes arrive; the thread
then reads the request with blocking reads and no overall limit, so four clients sending one
header line every two seconds hold four threads for as long as they like (and /healthz waits).
This worker reads every request under deadlines instead:

    CF_HEADER_TIMEOUT_S   the request line and headers must arrive within this (default 5 s)
    CF_READ_TIMEOUT_S     the whole request, body included, within this (default 60 s: a 20 MB
                          upload at 0.35 MB/s; over localhost it takes milliseconds)
    CF_WRITE_TIMEOUT_S    one response write may block this long on a client that does not read (60 s)

A client past a deadline is disconnected (the thread is free again); a body cut short that way
reaches the app as an unreadable body (400). Set by gunicorn.conf.py as `worker_class`.
"""
from __future__ import annotations

import os
import time

from gunicorn.http.errors import NoMoreData
from gunicorn.workers.gthread import ThreadWorker


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise SystemExit(f"{name}={raw!r} must be above 0")
    return value


HEADER_TIMEOUT_S = _seconds("CF_HEADER_TIMEOUT_S", 5.0)
READ_TIMEOUT_S = _seconds("CF_READ_TIMEOUT_S", 60.0)
WRITE_TIMEOUT_S = _seconds("CF_WRITE_TIMEOUT_S", 60.0)


class DeadlineSocket:
    """A client socket whose reads share one deadline per request: the head's until the blank
    line that ends the headers has arrived, then the whole request's. Everything else is the
    socket's own (gunicorn registers it with its poller, sends on it, closes it)."""

    def __init__(self, sock):
        self._sock = sock
        self.start_request()

    def start_request(self) -> None:
        now = time.monotonic()
        self._head_deadline = now + HEADER_TIMEOUT_S
        self._read_deadline = now + READ_TIMEOUT_S
        self._in_head = True
        self._tail = b""

    def recv(self, size, *flags):
        deadline = self._head_deadline if self._in_head else self._read_deadline
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoMoreData(b"")       # gunicorn closes the connection quietly
        previous = self._sock.gettimeout()
        self._sock.settimeout(remaining if previous is None else min(previous, remaining))
        try:
            data = self._sock.recv(size, *flags)
        except TimeoutError:
            raise NoMoreData(b"") from None
        finally:
            self._sock.settimeout(WRITE_TIMEOUT_S)   # what the sends that follow may wait
        if self._in_head:
            window = self._tail + data
            if b"\r\n\r\n" in window or b"\n\n" in window:
                self._in_head = False
            self._tail = window[-3:]
        return data

    def setblocking(self, flag: bool) -> None:
        # blocking means "blocking with the write timeout": a send never waits forever
        self._sock.settimeout(WRITE_TIMEOUT_S if flag else 0.0)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class BoundedThreadWorker(ThreadWorker):
    """gthread with DeadlineSocket connections; every request restarts the deadlines."""

    def handle(self, conn):
        if not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock)
        else:
            conn.sock.start_request()
        return super().handle(conn)
