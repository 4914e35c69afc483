"""Python (CoNaLa) adapter: the request alone is the source; snippets are one line of Python."""
from __future__ import annotations

from .base import TaskAdapter, register_task


@register_task("python")
class PythonTask(TaskAdapter):
    def pretraining_snippets(self, data_dir) -> list[str]:
        from ..data import load_python_corpus
        return load_python_corpus()
