"""How different the k candidates for one request are from each other.

Three views, each in [0, 1] with 1 = most diverse:

- `distinct_ratio`: distinct candidates (whitespace-normalized) / candidates.
- `pairwise_edit`: mean token-level edit distance over all candidate pairs, each divided by
  the longer token list, so two unrelated candidates score near 1.
- `self_bleu_diversity`: 1 - self-BLEU, where self-BLEU averages, over candidates, the sentence
  BLEU of a candidate with the other candidates as its references (Zhu et al., 2018). Smoothing
  is Chen & Cherry's method 1 (a zero match count becomes 0.1) over the n-gram orders the
  candidate has, so two unrelated 4-token snippets score near 0 rather than at add-one's floor.

Tokens are CoNaLa's BLEU tokens (identifiers and single punctuation characters), usable for all
three languages. A request with fewer than two candidates has no pairs; its pair-based scores
are 0 (nothing to be diverse with). For CF, `distinct_executions` counts distinct behaviours
(formatted cells) among the candidates, computed in the evaluation with `cf_exec`.
"""
from __future__ import annotations

from itertools import combinations
from typing import Sequence

from codefusion.metrics.bleu import compute_bleu, tokenize_for_bleu


def distinct_ratio(candidates: Sequence[str]) -> float:
    if not candidates:
        return 0.0
    return len({" ".join(c.split()) for c in candidates}) / len(candidates)


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences (insert, delete, substitute cost 1)."""
    previous = list(range(len(b) + 1))
    for i, token_a in enumerate(a, start=1):
        current = [i]
        for j, token_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (token_a != token_b)))
        previous = current
    return previous[-1]


def pairwise_edit(candidates: Sequence[str]) -> float:
    tokens = [tokenize_for_bleu(c) for c in candidates]
    pairs = list(combinations(tokens, 2))
    if not pairs:
        return 0.0
    return sum(edit_distance(a, b) / max(len(a), len(b), 1) for a, b in pairs) / len(pairs)


def self_bleu_diversity(candidates: Sequence[str]) -> float:
    if len(candidates) < 2:
        return 0.0
    tokens = [tokenize_for_bleu(c) for c in candidates]
    self_bleu = 0.0
    for i, hypothesis in enumerate(tokens):
        others = [t for j, t in enumerate(tokens) if j != i]
        self_bleu += compute_bleu([others], [hypothesis], smooth="epsilon")
    return 1.0 - self_bleu / len(candidates)


def diversity(candidates: Sequence[str]) -> dict[str, float]:
    return {
        "distinct": distinct_ratio(candidates),
        "pairwise_edit": pairwise_edit(candidates),
        "self_bleu_div": self_bleu_diversity(candidates),
    }
