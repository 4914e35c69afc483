"""Minimal CF adapter used until tasks/cf.py (grammar-aware, table-aware) exists: strip and dedupe only."""
from __future__ import annotations

from .base import TaskAdapter, register_task


@register_task("cf")
class BasicCFTask(TaskAdapter):
    def normalize_for_match(self, code: str) -> str:
        # CF rules carry no meaningful whitespace
        return "".join(code.split())
