#!/usr/bin/env bash
# Dev-split figures for the README (run from the repo root).
set -u
export HF_HUB_OFFLINE=1
D=${CODEFUSION_DATA:-../shared/data}/codefusion/train
ev() { .venv/bin/python -m codefusion.evaluate --no-progress -k 5 --split dev "$@" 2>&1 | grep -v "Loading weights"; }
ev --task cf --data $D/cf_train.json --system retrieval --json runs/eval/cf_retrieval.json
.venv/bin/python -m benchmarks.steps_curve --task cf --steps 1 2 4 8 16 --json runs/eval/cf_steps.json --plot docs/img/steps_curve.png 2>&1 | grep -v "Loading weights"
for t in bash python; do
  ev --task $t --data $D/${t}_train.json --json runs/eval/${t}_codefusion.json
  ev --task $t --data $D/${t}_train.json --system retrieval --json runs/eval/${t}_retrieval.json
done
