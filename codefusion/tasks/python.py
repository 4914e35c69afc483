"""Python (CoNaLa) adapter: the request alone is the source; snippets are one line of Python.

Candidates (tasks/code_candidates.py): only snippets `ast` parses, one per token sequence, with the
request's quoted strings, numbers and `names` swapped in (baselines/retrieval.substitute_literals); the
generator is the retrieval-augmented one.
"""
from __future__ import annotations

import ast

from .base import TaskAdapter, register_task
from .code_candidates import Calibration, CodeRanker


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return bool(code.strip())


@register_task("python")
class PythonTask(TaskAdapter):
    neighbour_votes = 16
    # Fitted on the train split, each record left out (sentence BLEU >= 50 counts as right): `python -m codefusion.tasks.calibrate --task python`.
    calibration = Calibration(bias=-2.979, w_share=9.422, w_similarity=-0.163)   # --limit 1000 --powers 2
    power, model_weight = 2.0, 0.01   # power: train leave-one-out (2: top-1 0.134, 8: 0.119, 24: 0.115); weight as Bash

    def pretraining_snippets(self, data_dir) -> list[str]:
        from ..data import load_python_corpus
        return load_python_corpus()

    def parses(self, code: str) -> bool:
        return parses(code)

    def group_key(self, code: str) -> str:
        from ..metrics.bleu import tokenize_for_bleu
        return " ".join(tokenize_for_bleu(code))

    def fill(self, code: str, request: str, written_for: str | None) -> str:
        if written_for is None:
            return code
        from ..baselines.retrieval import substitute_literals
        return substitute_literals(code, written_for, request)

    def ranker(self) -> CodeRanker:
        return CodeRanker(self.parses, self.group_key, self.fill, self.power, self.model_weight, self.calibration,
                          fill_first=True)

    def generator_class(self):
        from ..retrieval_augmented import RetrievalAugmentedGenerator
        return RetrievalAugmentedGenerator

    def postprocess(self, codes, scores, request="", table=None, drawn=None, k=None):
        """Model codes alone: parse-checked, deduplicated, with a confidence."""
        return self.ranker().rank(request, list(zip(codes, scores)), (), k or len(codes))
