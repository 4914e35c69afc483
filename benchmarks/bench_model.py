"""The CF model alone (no HTTP): seconds per request against sampling steps and k, and a
profile of where the time of one request goes.

    .venv/bin/python -m benchmarks.bench_model [--steps 5 10 25 50] [-k 1 5 10] [--repeats 3]
        [--rows 1000] [--threads 1] [--profile cprofile|pyinstrument|none] [--json out.json]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live_server import write_json  # noqa: E402
from benchmarks.workload import sales_table  # noqa: E402

REQUEST = "highlight sales under 500 in red"


def time_grid(gen, table, steps_list, k_list, repeats) -> list[dict]:
    rows = []
    for steps in steps_list:
        for k in k_list:
            gen.generate(REQUEST, table=table, k=k, steps=steps, seed=0)       # warm this shape
            times = []
            for r in range(repeats):
                started = time.perf_counter()
                gen.generate(REQUEST, table=table, k=k, steps=steps, seed=r)
                times.append(time.perf_counter() - started)
            row = {"steps": steps, "k": k, "median_ms": round(statistics.median(times) * 1000, 1),
                   "min_ms": round(min(times) * 1000, 1), "repeats": repeats}
            rows.append(row)
            print(f"steps {steps:>4}  k {k:>3}:  median {row['median_ms']:9.1f} ms   min {row['min_ms']:9.1f} ms",
                  flush=True)
    return rows


def profile_once(gen, table, steps, k, tool: str, top: int = 25) -> str:
    if tool == "pyinstrument":
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("pyinstrument is not installed (.venv/bin/pip install pyinstrument); using cProfile")
            tool = "cprofile"
        else:
            profiler = Profiler(interval=0.001)
            profiler.start()
            gen.generate(REQUEST, table=table, k=k, steps=steps, seed=0)
            profiler.stop()
            return profiler.output_text(unicode=False, color=False, show_all=False)
    profiler = cProfile.Profile()
    profiler.enable()
    gen.generate(REQUEST, table=table, k=k, steps=steps, seed=0)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(top)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", default="cf", choices=["cf", "bash", "python"])
    p.add_argument("--checkpoint", default=None, help="default: checkpoints/<task>")
    p.add_argument("--steps", type=int, nargs="+", default=[5, 10, 25, 50])
    p.add_argument("-k", type=int, nargs="+", default=[1, 5, 10])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rows", type=int, default=1000, help="table rows sent with cf requests")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the machine is shared)")
    p.add_argument("--profile", choices=["cprofile", "pyinstrument", "none"], default="cprofile")
    p.add_argument("--profile-steps", type=int, default=None, help="steps for the profiled request (default: "
                                                                    "the checkpoint's)")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)

    import torch
    torch.set_num_threads(args.threads)
    from codefusion.generate import load_generator

    started = time.perf_counter()
    gen = load_generator(args.task, checkpoint=args.checkpoint)
    load_s = time.perf_counter() - started
    print(f"loaded {args.task} generator in {load_s:.1f} s (torch threads {args.threads})")
    table = sales_table(args.rows) if args.task == "cf" else None
    grid = time_grid(gen, table, args.steps, args.k, args.repeats)
    figures = {"benchmark": "model", "task": args.task, "rows": args.rows if table else None,
               "threads": args.threads, "load_s": round(load_s, 2), "grid": grid}
    if args.profile != "none":
        report = profile_once(gen, table, args.profile_steps, 5, args.profile)
        print(f"\n=== profile of one request (k=5, steps={args.profile_steps or 'default'}) ===\n{report}")
        figures["profile"] = report
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
