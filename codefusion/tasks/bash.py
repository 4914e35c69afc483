"""Bash (NL2Bash) adapter: the request alone is the source; commands are single lines."""
from __future__ import annotations

from .base import TaskAdapter, register_task


@register_task("bash")
class BashTask(TaskAdapter):
    def target_code(self, code: str) -> str:
        return code.strip()
