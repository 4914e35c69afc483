"""Task adapters (cf, bash, python). Use `get_task(name)`."""
from __future__ import annotations

from .base import Candidate, TaskAdapter, get_task, register_task, task_names

_loaded = False


def _load_builtin_tasks() -> None:
    """Import the adapters once; each registers itself."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import bash, cf, python  # noqa: F401


__all__ = ["Candidate", "TaskAdapter", "get_task", "register_task", "task_names"]
