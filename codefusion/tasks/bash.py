"""Bash (NL2Bash) adapter: the request alone is the source; commands are single lines.

Candidates (tasks/code_candidates.py): only commands bashlex parses, one per NL2Bash template, with the
request's arguments filled in (tasks/bash_arguments.py); the generator is the retrieval-augmented one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..metrics import bash_template
from .base import TaskAdapter, register_task
from .code_candidates import Calibration, CodeRanker

# bashlex costs milliseconds a command and a request ranks about 20, mostly train codes that come back
# request after request: each code is parsed once (parses, template, argument spans), and the datastore's
# codes are analysed once per datastore and kept beside it (bash_analysis.json), so serving parses only
# the model's draws and the filled candidates.
_ANALYSIS: dict[str, tuple] = {}
_ANALYSIS_LIMIT = 200_000
ANALYSIS_FILE = "bash_analysis.json"


def _analysis(code: str) -> tuple:
    found = _ANALYSIS.get(code)
    if found is None:
        if len(_ANALYSIS) > _ANALYSIS_LIMIT:
            _ANALYSIS.clear()
        found = _ANALYSIS[code] = bash_template.analyse(code)
    return found


def analyse_store(codes: list[str], directory: Path | None) -> None:
    """Analyse a datastore's codes into the cache, from `directory/bash_analysis.json` when it is there."""
    path = Path(directory) / ANALYSIS_FILE if directory else None
    if path is not None and path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if len(saved) == len(codes):
            for code, (ok, template, spans) in zip(codes, saved):
                _ANALYSIS[code] = (ok, template, [tuple(s) for s in spans] if spans is not None else None)
            return
    rows = [_analysis(code) for code in codes]
    if path is not None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows), encoding="utf-8")
        os.replace(tmp, path)


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
        return _analysis(code.strip())[0]

    def group_key(self, code: str) -> str:
        return _analysis(code.strip())[1]

    def fill(self, code: str, request: str, written_for: str | None) -> str:
        from .bash_arguments import fill_arguments
        return fill_arguments(code, request, written_for, spans=_analysis(code.strip())[2])

    def prepare_store(self, store) -> None:
        """Analyse the datastore's codes once (retrieval_augmented.RetrievalAugmentedGenerator calls this)."""
        analyse_store(store.codes, getattr(store, "directory", None))

    def ranker(self) -> CodeRanker:
        return CodeRanker(self.parses, self.group_key, self.fill, self.power, self.model_weight, self.calibration)

    def generator_class(self):
        from ..retrieval_augmented import RetrievalAugmentedGenerator
        return RetrievalAugmentedGenerator

    def postprocess(self, codes, scores, request="", table=None, drawn=None, k=None):
        """Model codes alone (the autoregressive baseline, a generator without neighbours): parse-checked,
        one per template, arguments from the request, with a confidence."""
        return self.ranker().rank(request, list(zip(codes, scores)), (), k or len(codes))
