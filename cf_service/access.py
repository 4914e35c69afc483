"""Who may talk to the service: its own Host names, same-origin browser writes, Office's frames.

The service listens on the user's own machine, so any web page the user visits could otherwise
drive it: a cross-origin multipart POST needs no CORS preflight, and DNS rebinding reaches
127.0.0.1 under an attacker's host name. Three checks close that:

* Host allow-list: a request whose Host is not one of the service's names is refused (403
  `host_not_allowed`). Default `localhost, 127.0.0.1, [::1]`; CF_ALLOWED_HOSTS adds names
  (comma separated, e.g. `cf.example.internal`), `*` turns the check off (behind a proxy that
  checks Host itself).
* Origin check: a browser request that writes (any method but GET/HEAD/OPTIONS) or reaches the
  API (`/v1/...`, the SSE stream included) from another origin is refused (403
  `origin_not_allowed`). Same origin means the Origin's host:port is the request's Host (the
  task pane is served by the service itself, so its requests always are); CF_ALLOWED_ORIGINS
  adds origins (`https://addin.example.com`). Requests without Origin (curl, scripts, the batch
  CLI) are not browser requests and pass; `Origin: null` (sandboxed frames, file://) does not.
  A request the browser marks `Sec-Fetch-Site: cross-site` or `same-site` (an <img> or <form>
  from another page, which sends no Origin on GET) is refused on the API as well.
* The task pane is served with `Content-Security-Policy: frame-ancestors` naming Office's hosts
  only (CF_FRAME_ANCESTORS replaces the list), so no other page can frame it and click for the user.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, request

from .errors import ApiError

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# Where Office hosts task panes in a frame (Office on the web, Teams, Outlook); desktop Office
# shows the pane in a webview of its own, which frame-ancestors does not restrict.
OFFICE_FRAME_ANCESTORS = ("'self'", "https://*.officeapps.live.com", "https://*.office.com", "https://*.office365.com",
                          "https://*.office.net", "https://*.sharepoint.com", "https://*.cloud.microsoft",
                          "https://*.microsoft365.com", "https://*.live.com")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _names(raw: str | None) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in (raw or "").split(",") if name.strip())


@dataclass(frozen=True)
class AccessPolicy:
    hosts: tuple[str, ...] = DEFAULT_HOSTS           # CF_ALLOWED_HOSTS adds to these; "*" allows any
    origins: tuple[str, ...] = ()                     # CF_ALLOWED_ORIGINS: cross-origin callers allowed
    frame_ancestors: tuple[str, ...] = OFFICE_FRAME_ANCESTORS   # CF_FRAME_ANCESTORS replaces these

    @classmethod
    def from_env(cls, env=None) -> "AccessPolicy":
        env = os.environ if env is None else env
        extra = _names(env.get("CF_ALLOWED_HOSTS"))
        origins = tuple(o.rstrip("/") for o in _names(env.get("CF_ALLOWED_ORIGINS")))
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise ValueError(f"CF_ALLOWED_ORIGINS holds {origin!r}; write origins like https://addin.example.com")
        frames = tuple(env.get("CF_FRAME_ANCESTORS", "").split()) or cls.frame_ancestors
        return cls(hosts=DEFAULT_HOSTS + extra, origins=origins, frame_ancestors=frames)

    def host_allowed(self, host: str) -> bool:
        return "*" in self.hosts or _host_name(host) in self.hosts

    def origin_allowed(self, origin: str, host: str) -> bool:
        origin = origin.strip().lower().rstrip("/")
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == host.lower()


def _host_name(host: str) -> str:
    """The name in a Host header without its port: 'localhost:8000' -> 'localhost', '[::1]:80' -> '[::1]'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def install(app: Flask, policy: AccessPolicy) -> None:
    """Refuse foreign hosts and cross-origin calls before any handler runs; frame the pane for Office only."""
    app.extensions["cf_access"] = policy

    @app.before_request
    def _check_access():
        host = request.host or ""
        if not policy.host_allowed(host):
            raise ApiError(403, "host_not_allowed", f"The service does not answer to the host name {host!r}.",
                           hint="Use http://localhost or http://127.0.0.1, or add the name to CF_ALLOWED_HOSTS.")
        api = request.path.startswith("/v1/")
        if request.method in SAFE_METHODS and not api:
            return None
        origin = request.headers.get("Origin")
        if origin is not None and not policy.origin_allowed(origin, host):
            raise ApiError(403, "origin_not_allowed", f"Requests from the web page at {origin!r} are not allowed.",
                           hint="Call the service from its own task pane, or add the origin to CF_ALLOWED_ORIGINS.")
        site = request.headers.get("Sec-Fetch-Site", "")
        if origin is None and site in ("cross-site", "same-site"):
            raise ApiError(403, "origin_not_allowed", "Requests started by another web site are not allowed.",
                           hint="Call the service from its own task pane, or from a script.")
        return None

    @app.after_request
    def _frame_only_in_office(response):
        if request.path.startswith("/taskpane"):
            response.headers["Content-Security-Policy"] = (
                "frame-ancestors " + " ".join(policy.frame_ancestors) + "; object-src 'none'; base-uri 'self'")
        return response
