"""BLEU for code, computed the way the CoNaLa benchmark reports it.

CoNaLa's official evaluation (conala-baseline, `conala_eval.py`) does two things, both
reimplemented here from their description:

1. Tokenize code with the regex tokenizer of Ling et al. (2016): every character that is not
   a letter, digit or `_` becomes its own token, camelCase words are split at the case change
   (`getValue` -> `get Value`), and both quote characters become a backtick, so `'a'` and `"a"`
   tokenize the same.
2. Score the whole test set with corpus-level BLEU-4 (the `compute_bleu` of the TensorFlow NMT
   tutorial): clipped n-gram matches and possible n-grams are summed over the corpus for
   n = 1..4, the four precisions are combined with a geometric mean, and a brevity penalty
   compares total hypothesis length with total reference length. The official script calls it
   with `smooth=False`, so a corpus with no matching 4-gram scores 0.

Numbers are on a 0-100 scale, as papers print them.

Top-k BLEU (`corpus_bleu_at_k`): for every example the candidate with the best sentence-level
BLEU among the first k is kept, then corpus BLEU is computed over those. Unsmoothed sentence
BLEU is 0 for most short snippets (no 4-gram match), which would make the choice arbitrary, so
the choice uses the smoothed variant (add-one on every n-gram precision, `smooth=True` in the
same function); the reported number is always the unsmoothed corpus BLEU. Ties keep the
earlier (higher-ranked) candidate.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Sequence

MAX_ORDER = 4
EPSILON = 0.1


def tokenize_for_bleu(code: str) -> list[str]:
    """CoNaLa's code tokenizer (Ling et al., 2016)."""
    code = re.sub(r"([^A-Za-z0-9_])", r" \1 ", code)
    code = re.sub(r"([a-z])([A-Z])", r"\1 \2", code)
    code = code.replace('"', "`").replace("'", "`")
    return code.split()


def _ngram_counts(tokens: Sequence[str], max_order: int) -> Counter:
    counts: Counter = Counter()
    for order in range(1, max_order + 1):
        for start in range(len(tokens) - order + 1):
            counts[tuple(tokens[start:start + order])] += 1
    return counts


def compute_bleu(references: Sequence[Sequence[Sequence[str]]], hypotheses: Sequence[Sequence[str]],
                 max_order: int = MAX_ORDER, smooth: bool | str = False) -> float:
    """Corpus BLEU in [0, 1] over tokenized text.

    `references[i]` is a list of reference token lists for `hypotheses[i]` (CoNaLa has one
    reference per example). Matches, possible n-grams and lengths are summed over the corpus
    before precisions are taken, so this is not an average of sentence scores.
    `smooth`: False (CoNaLa's choice), True (add one to every order's matches and possible
    n-grams, as the original function offers) or "epsilon" (see below).
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"compute_bleu: {len(references)} reference lists but {len(hypotheses)} hypotheses; "
                         "pass one list of references per hypothesis")
    matches = [0] * max_order
    possible = [0] * max_order
    reference_length = 0
    hypothesis_length = 0
    for refs, hyp in zip(references, hypotheses):
        if not refs:
            raise ValueError("compute_bleu: an example has no reference; give at least one per hypothesis")
        reference_length += min(len(r) for r in refs)
        hypothesis_length += len(hyp)
        # Clip each hypothesis n-gram count by its largest count in any one reference.
        ref_counts: Counter = Counter()
        for ref in refs:
            ref_counts |= _ngram_counts(ref, max_order)
        for ngram, count in (_ngram_counts(hyp, max_order) & ref_counts).items():
            matches[len(ngram) - 1] += count
        for order in range(1, max_order + 1):
            possible[order - 1] += max(len(hyp) - order + 1, 0)

    if smooth == "epsilon":
        # Chen & Cherry's method 1 (zero match counts become 0.1), over the orders the text has;
        # used for self-BLEU, where add-one's floor on short snippets would hide differences.
        precisions = [(m or EPSILON) / p for m, p in zip(matches, possible) if p > 0]
    elif smooth:
        precisions = [(m + 1.0) / (p + 1.0) for m, p in zip(matches, possible)]
    else:
        precisions = [m / p if p > 0 else 0.0 for m, p in zip(matches, possible)]
    if not precisions or min(precisions) <= 0:
        return 0.0
    geo_mean = math.exp(sum(math.log(p) for p in precisions) / len(precisions))

    if hypothesis_length == 0 or reference_length == 0:
        return 0.0  # the original divides by zero here; an empty corpus side scores nothing
    ratio = hypothesis_length / reference_length
    brevity_penalty = 1.0 if ratio > 1.0 else math.exp(1.0 - 1.0 / ratio)
    return geo_mean * brevity_penalty


def corpus_bleu(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """CoNaLa corpus BLEU-4 (0-100) of code strings, one reference per hypothesis."""
    refs = [[tokenize_for_bleu(r)] for r in references]
    hyps = [tokenize_for_bleu(h) for h in hypotheses]
    return 100.0 * compute_bleu(refs, hyps, smooth=False)


def sentence_bleu(reference: str, hypothesis: str, smooth: bool | str = True) -> float:
    """BLEU-4 (0-100) of one hypothesis; smoothed by default because it ranks candidates."""
    return 100.0 * compute_bleu([[tokenize_for_bleu(reference)]], [tokenize_for_bleu(hypothesis)], smooth=smooth)


def best_of_k(reference: str, candidates: Sequence[str], k: int) -> str:
    """The candidate among the first k with the best smoothed sentence BLEU ("" when there is none)."""
    best, best_score = "", -1.0
    for code in candidates[:k]:
        score = sentence_bleu(reference, code)
        if score > best_score:
            best, best_score = code, score
    return best


def corpus_bleu_at_k(references: Sequence[str], candidate_lists: Sequence[Sequence[str]], k: int) -> float:
    """Top-k corpus BLEU (0-100): best sentence-BLEU candidate per example, then corpus BLEU."""
    if len(references) != len(candidate_lists):
        raise ValueError(f"corpus_bleu_at_k: {len(references)} references but {len(candidate_lists)} candidate lists")
    chosen = [best_of_k(ref, cands, k) for ref, cands in zip(references, candidate_lists)]
    return corpus_bleu(references, chosen)


def conala_exact_match(reference: str, hypothesis: str) -> bool:
    """CoNaLa's exact match: the two token lists are equal."""
    return tokenize_for_bleu(reference) == tokenize_for_bleu(hypothesis)
