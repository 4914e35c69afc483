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
    """Run the trainer into a temporary folder; examples/s from its metrics.jsonl windows, plus
    the set-up time (start to first logged window). On timeout the child is stopped and what it
    logged so far is reported."""
    with tempfile.TemporaryDirectory(prefix=f"bench_train_{task}_") as out:
        metrics = Path(out) / "metrics.jsonl"
        log_path = Path(out) / "train.log"
        cmd = [sys.executable, "-m", "codefusion.train", "--task", task, "--max-steps", str(steps),
               "--stage", stage, "--out", out, "--threads", str(threads), "--no-progress", "--seed", "0", *extra]
        started = time.perf_counter()
        first_window_s = None
        with open(log_path, "w") as log:
            child = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                while child.poll() is None:
                    if time.perf_counter() - started > timeout_s:
                        child.kill()          # our own child only
                        child.wait()
                        break
                    if first_window_s is None and metrics.exists() and "examples_per_s" in metrics.read_text():
                        first_window_s = time.perf_counter() - started
                    time.sleep(0.5)
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
        wall = time.perf_counter() - started
        timed_out = child.returncode not in (0,) and wall > timeout_s
        rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()] if metrics.exists() \
            else []
        log_tail = log_path.read_text(errors="replace")[-1500:]
    if child.returncode != 0 and not rows:
        return {"task": task, "error": ("timed out: " if timed_out else "") + log_tail, "wall_s": round(wall, 1)}
    rates = [r["examples_per_s"] for r in rows if "examples_per_s" in r]
    by_stage = {}
    for r in rows:
        if "examples_per_s" in r:
            by_stage.setdefault(r.get("stage", "?"), []).append(r["examples_per_s"])
    return {"task": task, "config": f"{task}-small", "steps": steps, "stage": stage, "threads": threads,
            "wall_s": round(wall, 1), "timed_out": timed_out,
            "setup_s": round(first_window_s, 1) if first_window_s else None,
            "last_step": max((r.get("step", 0) for r in rows), default=0),
            "examples_per_s_median": round(statistics.median(rates), 1) if rates else None,
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
                  f"by stage {row['examples_per_s_by_stage']}); reached step {row['last_step']}/{row['steps']} "
                  f"in {row['wall_s']} s wall, first window after {row['setup_s']} s"
                  + (" (TIMED OUT)" if row["timed_out"] else ""))
    write_json(args.json, {"benchmark": "train", "results": results})
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
