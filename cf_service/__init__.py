"""CF service: the Flask app behind the Excel add-in.

`app` and `create_app` are resolved lazily (PEP 562 module `__getattr__`) so that importing a
sub-package such as `cf_service.rules` neither imports Flask nor builds the app nor loads models.
`gunicorn cf_service:app` asks for `app`, which builds the app once per process.
"""
from __future__ import annotations

import threading

__all__ = ["app", "create_app"]

_app = None
_app_lock = threading.Lock()


def __getattr__(name: str):
    global _app
    if name == "create_app":
        from .app import create_app
        return create_app
    if name == "app":
        with _app_lock:
            if _app is None:
                from .app import create_app
                _app = create_app()
        return _app
    raise AttributeError(f"module 'cf_service' has no attribute {name!r}")
