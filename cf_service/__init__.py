"""CF service: the Flask app behind the Excel add-in.

`app` and `create_app` are resolved lazily, so that importing a submodule such as
`cf_service.pipeline` or `cf_service.batch` neither builds the app nor loads models.
`gunicorn cf_service:app` asks for `app`, which builds the app once per process.

Why a module class rather than only a module `__getattr__`: the factory lives in the submodule
`cf_service/app.py`, and importing a submodule binds it as the package attribute of the same
name. `cf_service.app` must stay the Flask app whatever was imported first, so `app` is a
property of the package's module type: the import system's binding of the submodule goes to
its setter and is dropped (the submodule stays in sys.modules, so `from cf_service.app import
create_app` keeps working).
"""
from __future__ import annotations

import sys
import threading
import types

__all__ = ["app", "create_app"]

_app = None
_app_lock = threading.Lock()


def _get_app():
    global _app
    with _app_lock:
        if _app is None:
            from .app import create_app
            _app = create_app()
    return _app


class _Package(types.ModuleType):
    @property
    def app(self):
        return _get_app()

    @app.setter
    def app(self, submodule):
        pass   # the submodule cf_service.app being bound by the import system (see the docstring)


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app
        return create_app
    raise AttributeError(f"module 'cf_service' has no attribute {name!r}")


sys.modules[__name__].__class__ = _Package
