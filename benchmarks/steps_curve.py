"""Speed against quality for CodeFusion's number of sampling steps, on the dev split.

    .venv/bin/python -m benchmarks.steps_curve [--task cf] [--checkpoint DIR] [--data FILE]
        [--steps 2 4 8 16 32] [-k 5] [--limit N] [--seed 0] [--threads 1]
        [--json out.json] [--plot docs/img/steps_curve.png]

For each steps value the model is evaluated with codefusion.evaluate (same records, seed and k)
and one row is kept: the task's main metric @1/@3/@5, valid@1 (where the task has it) and the
p50/p95 latency of one generate call of k candidates. The model is loaded once for all values.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live_server import write_json  # noqa: E402
from codefusion.evaluate import TASKS, CodeFusionSystem, build_system, evaluate, load_benchmark  # noqa: E402

MAIN_METRIC = {"cf": "exec_match", "bash": "template_match", "python": "bleu"}   # bleu is 0-100
REPO_ROOT = Path(__file__).resolve().parent.parent


def steps_curve(generator, task: str, records: list[dict], steps_list: list[int], k: int, seed: int) -> list[dict]:
    main = MAIN_METRIC[task]
    rows = []
    for steps in steps_list:
        system = CodeFusionSystem(generator, steps=steps, seed=seed)
        table = records[0].get("Data") if task == "cf" else None
        system.generate(records[0]["NL Utterance"], table=table, k=k)   # warm this shape, untimed
        metrics = evaluate(system, task, records, k=k, progress=False).metrics
        row = {"steps": steps, "n": len(records)}
        row.update({f"{main}@{kk}": metrics.get(f"{main}@{kk}") for kk in (1, 3, 5)})
        row.update({"valid@1": metrics.get("valid@1"), "latency_ms_p50": metrics["latency_ms_p50"],
                    "latency_ms_p95": metrics["latency_ms_p95"]})
        rows.append(row)
        print(format_row(row, main), flush=True)
    return rows


def _cell(value, width=10) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"


def format_header(main: str) -> str:
    return (f"{'steps':>5} " + "".join(f"{main + '@' + str(kk):>{max(10, len(main) + 4)}}" for kk in (1, 3, 5))
            + f"{'valid@1':>10}{'p50 ms':>10}{'p95 ms':>10}")


def format_row(row: dict, main: str) -> str:
    return (f"{row['steps']:>5} " + "".join(_cell(row[f"{main}@{kk}"], max(10, len(main) + 4)) for kk in (1, 3, 5))
            + _cell(row["valid@1"]) + f"{row['latency_ms_p50']:>10.1f}{row['latency_ms_p95']:>10.1f}")


def plot_curve(rows: list[dict], main: str, title: str, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["steps"] for r in rows]
    fig, acc_ax = plt.subplots(figsize=(7, 4.2))
    for kk, style in ((1, "o-"), (5, "s-")):
        values = [r[f"{main}@{kk}"] or 0.0 for r in rows]
        acc_ax.plot(steps, values, style, label=f"{main}@{kk}")
    acc_ax.set_xscale("log", base=2)
    acc_ax.set_xticks(steps, [str(s) for s in steps])
    acc_ax.set_xlabel("sampling steps")
    acc_ax.set_ylabel(main + (" (0-100)" if main == "bleu" else " (fraction)"))
    acc_ax.set_ylim(0, 105 if main == "bleu" else 1.05)   # a fixed scale, so runs compare by eye
    lat_ax = acc_ax.twinx()   # latency has its own scale on the right
    lat_ax.plot(steps, [r["latency_ms_p50"] for r in rows], "^--", color="tab:red", label="p50 latency")
    lat_ax.set_ylabel("p50 latency per request (ms)", color="tab:red")
    lat_ax.set_ylim(bottom=0)
    lines = acc_ax.get_legend_handles_labels()
    more = lat_ax.get_legend_handles_labels()
    acc_ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    acc_ax.set_title(title, fontsize=10)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="cf", choices=TASKS)
    parser.add_argument("--checkpoint", help="model checkpoint dir (default checkpoints/<task>)")
    parser.add_argument("--data", help="benchmark JSON (default the task's train file; its dev part is used)")
    parser.add_argument("--steps", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("-k", type=int, default=5, help="candidates per request (default 5)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N dev records")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1; shared machine)")
    parser.add_argument("--json", help="write the rows and settings here")
    parser.add_argument("--plot", help="write the PNG here, e.g. docs/img/steps_curve.png")
    args = parser.parse_args(argv)

    if args.k < 1 or any(s < 1 for s in args.steps) or (args.limit is not None and args.limit < 1):
        parser.error("-k, --steps and --limit must all be >= 1")
    checkpoint = Path(args.checkpoint or REPO_ROOT / "checkpoints" / args.task)
    if not (checkpoint / "config.json").is_file():
        parser.error(f"no checkpoint at {checkpoint} (no config.json); train one or pass --checkpoint DIR")
    try:
        if args.data is None:
            from codefusion.data import resolve_data_dir
            args.data = str(resolve_data_dir() / "codefusion" / "train" / f"{args.task}_train.json")
        benchmark = load_benchmark(args.data, args.task, "dev")
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    records = benchmark.records[:args.limit] if args.limit else benchmark.records
    if not records:
        parser.error(f"no dev records in {args.data}")

    import torch
    torch.set_num_threads(args.threads)
    generator = build_system("codefusion", args.task, str(checkpoint), seed=args.seed).generator
    main_metric = MAIN_METRIC[args.task]
    print(f"{args.task}: {len(records)} dev records from {args.data}, k={args.k}, seed={args.seed}, "
          f"checkpoint {checkpoint}, {args.threads} torch thread(s)")
    print(format_header(main_metric))
    rows = steps_curve(generator, args.task, records, sorted(set(args.steps)), args.k, args.seed)

    write_json(args.json, {"task": args.task, "checkpoint": str(checkpoint), "data": args.data, "split": "dev",
                           "n": len(records), "k": args.k, "seed": args.seed, "threads": args.threads,
                           "main_metric": main_metric, "rows": rows})
    if args.plot:
        title = f"{args.task}: sampling steps vs {main_metric} and latency (n={len(records)}, k={args.k})"
        plot_curve(rows, main_metric, title, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
