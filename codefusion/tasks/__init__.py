"""Task adapters (cf, bash, python). Use `get_task(name)`."""
from __future__ import annotations

import importlib

from .base import Candidate, TaskAdapter, get_task, register_task, task_names

_loaded = False


def _load_builtin_tasks() -> None:
    """Import the adapters once. The full CF adapter (tasks/cf.py) wins over the basic one when present."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import bash, python  # noqa: F401  (register themselves)
    try:
        importlib.import_module(f"{__name__}.cf")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.cf":
            raise  # cf.py exists but something it imports is missing: report, do not hide it
        from . import cf_basic  # noqa: F401


__all__ = ["Candidate", "TaskAdapter", "get_task", "register_task", "task_names"]
