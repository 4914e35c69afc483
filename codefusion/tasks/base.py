"""Per-task adapters: how a request (+ table) becomes encoder text, and raw code becomes ranked candidates.

Subclass `TaskAdapter`, override what differs, and register it with `@register_task("name")`.
The CodeFusion core (train.py, generate.py) only talks to tasks through this interface.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

_REGISTRY: dict[str, Callable[[], "TaskAdapter"]] = {}


@dataclass(frozen=True)
class Candidate:
    code: str
    score: float
    sibling: bool = False     # offered by the pipeline to fill k (tasks/cf/adapter.py `siblings`), not read from the model
    paint: object = None      # CF: what the rule formats on the user's table (cf_rules.paint.Paint), None without one
    alternative: object = None    # CF: the other reading of what to paint, when the wording does not decide
    source: str = "model"     # CF: "model" (decoded from a sample), "reader" (read off the request's words)


class TaskAdapter:
    name = "base"

    def source_text(self, request: str, table=None) -> str:
        """The text the request encoder reads. Default: the request with collapsed whitespace."""
        return " ".join(str(request).split())

    def target_code(self, code: str) -> str:
        """The code string the model is trained to emit for a training record. Default: stripped."""
        return code.strip()

    def normalize_for_match(self, code: str) -> str:
        """Form used to compare a generated code with the reference (dev exact match, dedup)."""
        return " ".join(code.split())

    def display_codes(self, codes: list[str], request: str = "", table=None) -> list[str]:
        """Codes as a person should see them mid-sampling (the denoising stream). Default: as decoded."""
        return list(codes)

    def postprocess(self, codes: list[str], scores: list[float], request: str = "", table=None,
                    drawn: list[bool] | None = None, k: int | None = None) -> list[Candidate]:
        """Raw decoded codes + scores -> candidates best first, deduplicated (by normalized form), empties dropped.
        `drawn[i]` False marks a swap variant: those rank after every sampled code. `k`: how many the caller
        shows (a task may use it to fill the list; the caller cuts it)."""
        best: dict[str, Candidate] = {}
        sampled: set[str] = set()
        drawn = [True] * len(codes) if drawn is None else drawn
        for code, score, was_drawn in zip(codes, scores, drawn):
            code = code.strip()
            if not code:
                continue
            key = self.normalize_for_match(code)
            if was_drawn:
                sampled.add(key)
            if key not in best or score > best[key].score:
                best[key] = Candidate(code, float(score))
        ranked = sorted(best.items(), key=lambda item: (item[0] not in sampled, -item[1].score))
        return [candidate for _, candidate in ranked]

    def training_source(self, record) -> str:
        """Encoder text for a training record (codefusion.data.Record)."""
        return self.source_text(record.nl, record.table)

    def training_target(self, record) -> str:
        """The code a training record teaches (after any literal masking). Default: target_code(record.code)."""
        return self.target_code(record.code)

    def training_pair(self, record) -> tuple[str, str]:
        """(source_text, target code) for a train/dev record; train.py and evaluate use this."""
        return self.training_source(record), self.training_target(record)

    def extra_training_pairs(self, data_dir) -> list[tuple[str, str]]:
        """Additional (source_text, code) fine-tuning pairs, e.g. synthetic data. Default: none."""
        return []

    def pretraining_snippets(self, data_dir) -> list[str]:
        """Code-only snippets for stage-1 pretraining. Default: the task's snippet file via codefusion.data."""
        from ..data import load_pretraining_snippets
        return load_pretraining_snippets(self.name, data_dir)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def mask_identifiers(code: str, frac: float, mask_word: str, rng) -> str:
    """Replace a share `frac` of identifier/keyword occurrences with `mask_word` (paragraph denoising input).
    `rng` is a random.Random; at least one word is masked when the code has any."""
    spans = [m.span() for m in _IDENT.finditer(code)]
    if not spans:
        return code
    n = max(1, round(frac * len(spans)))
    chosen = sorted(rng.sample(range(len(spans)), min(n, len(spans))))
    parts, last = [], 0
    for i in chosen:
        a, b = spans[i]
        parts.append(code[last:a])
        parts.append(mask_word)
        last = b
    parts.append(code[last:])
    return "".join(parts)


def register_task(name: str):
    def wrap(cls):
        cls.name = name
        _REGISTRY[name] = cls
        return cls
    return wrap


def get_task(name: str) -> TaskAdapter:
    from . import _load_builtin_tasks
    _load_builtin_tasks()
    if name not in _REGISTRY:
        raise KeyError(f"unknown task {name!r}; known tasks: {sorted(_REGISTRY)}")
    return _REGISTRY[name]()


def task_names() -> list[str]:
    from . import _load_builtin_tasks
    _load_builtin_tasks()
    return sorted(_REGISTRY)
