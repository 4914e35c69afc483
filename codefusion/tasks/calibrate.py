"""Tune the neighbour vote and fit the confidence of the Bash/Python candidates on the train split, leave-one-out.

    python -m codefusion.tasks.calibrate --task bash [--limit 3000] [--powers 1,4,8,16]

Each train request is answered from the other train pairs only (its own pair left out, as a new request
would be), with the task's CodeRanker over its `neighbour_votes` nearest pairs. For each vote power it
prints top-1/top-5 accuracy (Bash: template match; Python: sentence BLEU >= 50 against the reference),
then fits the confidence (code_candidates.fit_calibration) at the task's power on every shown candidate.
No dev record takes part, so the dev figures stay unbiased by these choices.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from . import get_task
from .code_candidates import fit_calibration


def is_right(task_name: str, reference: str, code: str) -> bool:
    if task_name == "bash":
        from ..metrics.bash_template import template_match
        return template_match(reference, code)
    from ..metrics.bleu import sentence_bleu
    return sentence_bleu(reference, code) >= 50.0   # sentence_bleu is on the 0-100 scale


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m codefusion.tasks.calibrate", description=__doc__.split("\n\n")[0])
    p.add_argument("--task", required=True, choices=("bash", "python"))
    p.add_argument("--limit", type=int, default=3000, help="train requests scored (every train pair is a neighbour)")
    p.add_argument("--powers", default="1,4,8,16")
    p.add_argument("-k", type=int, default=5)
    args = p.parse_args(argv)
    from ..neighbours import Datastore
    task = get_task(args.task)
    store = Datastore.for_task(args.task)
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(store), min(args.limit, len(store)), replace=False)
    indices, sims = store.nearest(store.embeddings[chosen], task.neighbour_votes, exclude=chosen.tolist())
    for power in [float(x) for x in args.powers.split(",")]:
        ranker = task.ranker()
        ranker.power = power
        hits1 = hits5 = 0
        features, labels, firsts = [], [], []
        for row, q in enumerate(chosen):
            neighbours = [(store.codes[i], store.requests[i], s) for i, s in zip(indices[row], sims[row])]
            groups = ranker.groups(store.requests[q], (), neighbours)[:args.k]
            right = [is_right(args.task, store.codes[q], g.code) for g, _ in groups]
            firsts.append(groups[0][0].code if groups else "")
            hits1 += bool(right[:1] and right[0])
            hits5 += any(right)
            if power == task.power:
                features += [(share, g.similarity) for g, share in groups]
                labels += [float(r) for r in right]
        n = len(chosen)
        bleu = ""
        if args.task == "python":
            from ..metrics.bleu import corpus_bleu
            bleu = f", corpus BLEU of the first {corpus_bleu([store.codes[q] for q in chosen], firsts):.1f}"
        print(f"{args.task} power {power:g}: top-1 {hits1 / n:.3f}, top-{args.k} {hits5 / n:.3f}{bleu} "
              f"(n={n}, leave-one-out)")
        if features:
            print(f"  calibration at power {power:g}: {fit_calibration(np.array(features), np.array(labels))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
