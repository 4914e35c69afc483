"""Bash (NL2Bash) adapter: the request alone is the source; commands are single lines.

Candidates (tasks/code_candidates.py): only commands bashlex parses, one per NL2Bash template, with the
request's arguments filled in (tasks/bash_arguments.py); the generator is the retrieval-augmented one.
"""
from __future__ import annotations

from functools import lru_cache

from ..metrics import bash_template
from .base import TaskAdapter, register_task
from .code_candidates import Calibration, CodeRanker

# bashlex is slow (about a millisecond a command); the same train codes come back request after request.
_parses = lru_cache(maxsize=1 << 16)(bash_template.parses)
_template = lru_cache(maxsize=1 << 16)(bash_template.template)


@register_task("bash")
class BashTask(TaskAdapter):
    neighbour_votes = 16          # nearest train pairs that vote (retrieval_augmented.py)
    # Fitted on the train split, each pair left out: `python -m codefusion.tasks.calibrate --task bash`.
    calibration = Calibration(bias=-5.379, w_share=5.003, w_similarity=2.124)   # --limit 1500: top-1 0.219, top-5 0.353
    # model_weight: the model's draws mostly break ties (dev records 300-499: top-1 0.240 at every weight 0-0.3,
    # top-5 0.395 without them, 0.400 at 0.003-0.01, 0.385 at 0.3; runs/ scripts in docs/bash_python.md)
    power, model_weight = 8.0, 0.01

    def target_code(self, code: str) -> str:
        return code.strip()

    def parses(self, code: str) -> bool:
        return _parses(code)

    def group_key(self, code: str) -> str:
        return _template(code)

    def fill(self, code: str, request: str, written_for: str | None) -> str:
        from .bash_arguments import fill_arguments
        return fill_arguments(code, request, written_for)

    def ranker(self) -> CodeRanker:
        return CodeRanker(self.parses, self.group_key, self.fill, self.power, self.model_weight, self.calibration)

    def generator_class(self):
        from ..retrieval_augmented import RetrievalAugmentedGenerator
        return RetrievalAugmentedGenerator

    def postprocess(self, codes, scores, request="", table=None, drawn=None, k=None):
        """Model codes alone (the autoregressive baseline, a generator without neighbours): parse-checked,
        one per template, arguments from the request, with a confidence."""
        return self.ranker().rank(request, list(zip(codes, scores)), (), k or len(codes))
