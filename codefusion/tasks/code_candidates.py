"""Ranked Bash/Python candidates that parse, from the model's codes and the request's edited neighbours.

Every proposal is one vote: a retrieved neighbour (its code with the request's arguments filled in)
weighs similarity ** power, a model code weighs model_weight * exp(mean token log-prob). Proposals
that do not parse (bashlex / ast) are dropped: code that does not parse is never shown, and no
candidate is ever executed. Proposals that do the same thing (the same NL2Bash template for Bash,
the same tokens for Python) are one candidate, shown as its heaviest proposal, and candidates are
ranked by their summed weight, so neighbours that agree, or a neighbour the model agrees with, rank
first. `confidence` is the calibrated chance that a candidate is right (template match / BLEU-level
equivalence): a logistic function of the candidate's share of all votes and of its best similarity,
fitted on the train split with each request's own pair left out (see `calibrate`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .base import Candidate


@dataclass(frozen=True)
class CodeCandidate(Candidate):
    confidence: float = 0.0    # calibrated probability that the candidate is right, in [0, 1]
    origin: str = "model"      # "model", "neighbour" (a retrieved pair's code, edited) or "both"


@dataclass(frozen=True)
class Calibration:
    """confidence = sigmoid(bias + share * w_share + similarity * w_similarity)."""
    bias: float = -4.0
    w_share: float = 3.0
    w_similarity: float = 3.0

    def __call__(self, share: float, similarity: float) -> float:
        z = self.bias + self.w_share * share + self.w_similarity * similarity
        return 1.0 / (1.0 + math.exp(-z))


@dataclass
class _Group:
    code: str
    weight: float = 0.0
    best: float = -1.0         # weight of the proposal shown
    similarity: float = 0.0    # best neighbour similarity among the proposals
    origins: set = None
    written_for: str | None = None   # the request the shown proposal answers (a neighbour's)


class CodeRanker:
    """`fill_first`: fill arguments before the parse check and grouping (Python: literals decide whether two
    snippets are the same). Without it (Bash: the template ignores arguments) only the k shown candidates
    are filled, and one whose filled form does not parse is shown as it was written."""

    def __init__(self, parses: Callable[[str], bool], group_key: Callable[[str], str],
                 fill: Callable[[str, str, str | None], str], power: float = 8.0, model_weight: float = 0.3,
                 calibration: Calibration = Calibration(), fill_first: bool = False):
        self.parses, self.group_key, self.fill = parses, group_key, fill
        self.power, self.model_weight, self.calibration = power, model_weight, calibration
        self.fill_first = fill_first

    def proposals(self, request: str, model_codes: Sequence[tuple[str, float]],
                  neighbours: Sequence[tuple[str, str, float]]) -> list[tuple[str, str | None, float, str, float]]:
        """(code, the request it was written for or None, weight, origin, similarity) of every proposal."""
        out = [(code, written_for, max(similarity, 0.0) ** self.power, "neighbour", similarity)
               for code, written_for, similarity in neighbours]
        out += [(code, None, self.model_weight * math.exp(min(score, 0.0)), "model", 0.0) for code, score in model_codes]
        if self.fill_first:
            out = [(self.fill(code, request, written_for), None, *rest) for code, written_for, *rest in out]
        return out

    def groups(self, request: str, model_codes: Sequence[tuple[str, float]] = (),
               neighbours: Sequence[tuple[str, str, float]] = (), k: int | None = None) -> list[tuple[_Group, float]]:
        """(group, share of all parsing votes) per distinct candidate, heaviest first, the first k filled."""
        groups: dict[str, _Group] = {}
        total = 0.0
        for code, written_for, weight, origin, similarity in self.proposals(request, model_codes, neighbours):
            code = code.strip()
            if not code or not self.parses(code):
                continue
            total += weight
            group = groups.setdefault(self.group_key(code), _Group(code, origins=set()))
            group.weight += weight
            group.origins.add(origin)
            group.similarity = max(group.similarity, similarity)
            if weight > group.best:
                group.best, group.code, group.written_for = weight, code, written_for
        ranked = sorted(groups.values(), key=lambda g: -g.weight)[:k]
        if not self.fill_first:
            for g in ranked:
                filled = self.fill(g.code, request, g.written_for).strip()
                if filled != g.code and self.parses(filled):
                    g.code = filled
        return [(g, g.weight / max(total, 1e-12)) for g in ranked]

    def rank(self, request: str, model_codes: Sequence[tuple[str, float]] = (),
             neighbours: Sequence[tuple[str, str, float]] = (), k: int = 5) -> list[CodeCandidate]:
        return [CodeCandidate(g.code, g.weight, confidence=round(self.calibration(share, g.similarity), 3),
                              origin="both" if len(g.origins) > 1 else next(iter(g.origins)))
                for g, share in self.groups(request, model_codes, neighbours, k)]


def fit_calibration(features: np.ndarray, correct: np.ndarray, iterations: int = 50) -> Calibration:
    """Logistic regression (Newton steps, a little L2) of correct [N] on features [N, 2] = (share, similarity)."""
    X = np.concatenate([np.ones((len(features), 1)), features], 1)
    w = np.zeros(3)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-X @ w))
        grad = X.T @ (p - correct) + 1e-3 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X + 1e-3 * np.eye(3)
        w -= np.linalg.solve(hess, grad)
    return Calibration(*(round(float(v), 3) for v in w))
