"""Training throughput (examples/s) of each task's small config for a fixed number of steps,
read from the metrics.jsonl that `python -m codefusion.train` writes; output goes to a
temporary folder (the shipped checkpoints are never touched).

    .venv/bin/python -m benchmarks.bench_train [--tasks cf bash python] [--steps 60] [--threads 1] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live_server import REPO_ROOT, write_json  # noqa: E402


def train_once(task: str, steps: int, threads: int, stage: str, timeout_s: float, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench_train_{task}_") as out:
        cmd = [sys.executable, "-m", "codefusion.train", "--task", task, "--max-steps", str(steps),
               "--stage", stage, "--out", out, "--threads", str(threads), "--no-progress", "--seed", "0", *extra]
        started = time.perf_counter()
        run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout_s)
        wall = time.perf_counter() - started
        if run.returncode != 0:
            return {"task": task, "error": run.stderr[-1500:], "wall_s": round(wall, 1)}
        rows = [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines() if line.strip()]
    rates = [r["examples_per_s"] for r in rows if "examples_per_s" in r]
    by_stage = {}
    for r in rows:
        if "examples_per_s" in r:
            by_stage.setdefault(r.get("stage", "?"), []).append(r["examples_per_s"])
    return {"task": task, "config": f"{task}-small", "steps": steps, "stage": stage, "threads": threads,
            "wall_s": round(wall, 1), "examples_per_s_median": round(statistics.median(rates), 1) if rates else None,
            "examples_per_s_by_stage": {k: round(statistics.median(v), 1) for k, v in by_stage.items()},
            "logged_windows": len(rates)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", nargs="+", default=["cf", "bash", "python"])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--stage", default="finetune", choices=["pretrain", "finetune", "all"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--timeout", type=float, default=900, help="seconds per task")
    p.add_argument("--data", default=None, help="passed to codefusion.train --data")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)
    extra = ["--data", args.data] if args.data else []
    results = []
    for task in args.tasks:
        row = train_once(task, args.steps, args.threads, args.stage, args.timeout, extra)
        results.append(row)
        if "error" in row:
            print(f"{task}: failed after {row['wall_s']} s:\n{row['error']}")
        else:
            print(f"{task:7s} {row['examples_per_s_median']} examples/s (median of {row['logged_windows']} windows; "
                  f"by stage {row['examples_per_s_by_stage']}), {row['steps']} steps in {row['wall_s']} s wall")
    write_json(args.json, {"benchmark": "train", "results": results})
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
