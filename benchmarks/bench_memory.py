"""Resident memory (RSS) of one gunicorn worker with all three models loaded, before and after
serving one request per task; plus, in this process, what each model adds when loaded alone.
With gunicorn's preload (the default in gunicorn.conf.py) the models are loaded by the arbiter and
shared copy-on-write, so PSS (shared pages divided among the sharers) is reported beside RSS.

    .venv/bin/python -m benchmarks.bench_memory [--json out.json] [--no-in-process]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live_server import LiveServer, pss_kib, rss_kib, write_json  # noqa: E402
from benchmarks.workload import sales_table  # noqa: E402

MIB = 1024


def in_process(checkpoints: str | None) -> dict:
    """RSS of this process: bare interpreter, after importing torch, after each model."""
    out = {"baseline_mib": rss_kib(os.getpid()) / MIB}
    import torch
    torch.set_num_threads(1)
    out["torch_imported_mib"] = rss_kib(os.getpid()) / MIB
    from codefusion.generate import load_generator
    generators = []
    for task in ("cf", "bash", "python"):
        before = rss_kib(os.getpid())
        generators.append(load_generator(task, checkpoint=str(Path(checkpoints) / task) if checkpoints else None))
        out[f"{task}_adds_mib"] = (rss_kib(os.getpid()) - before) / MIB
    out["all_loaded_mib"] = rss_kib(os.getpid()) / MIB
    return {k: round(v, 1) for k, v in out.items()}


def one_worker(checkpoints: str | None) -> dict:
    env = {"CF_LOG_LEVEL": "WARNING"}
    if checkpoints:
        env["CF_SERVICE_CHECKPOINTS"] = str(Path(checkpoints).resolve())
    with LiveServer(workers=1, env=env, ready_timeout_s=300) as server:
        worker = server.worker_pids()[0]
        time.sleep(1)
        ready, ready_pss = rss_kib(worker), pss_kib(worker)
        requests = [("/v1/cf/generate", {"request": "highlight sales under 500", "table": sales_table(1000), "k": 5}),
                    ("/v1/bash/generate", {"request": "list files larger than 10 MB", "k": 5}),
                    ("/v1/python/generate", {"request": "reverse a list", "k": 5})]
        for path, body in requests:
            status, answer = server.request("POST", path, body, timeout=300)
            if status != 200:
                raise RuntimeError(f"{path}: {status} {answer}")
        served = rss_kib(worker)
        for _ in range(5):
            for path, body in requests:
                server.request("POST", path, body, timeout=300)
        after_6, after_6_pss = rss_kib(worker), pss_kib(worker)
        arbiter, arbiter_pss = rss_kib(server.arbiter_pid), pss_kib(server.arbiter_pid)
    return {"worker_ready_mib": round(ready / MIB, 1), "worker_after_1_each_mib": round(served / MIB, 1),
            "worker_after_6_each_mib": round(after_6 / MIB, 1), "arbiter_mib": round(arbiter / MIB, 1),
            "worker_ready_pss_mib": round(ready_pss / MIB, 1), "worker_after_6_each_pss_mib": round(after_6_pss / MIB, 1),
            "arbiter_pss_mib": round(arbiter_pss / MIB, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--no-in-process", action="store_true", help="skip the per-model breakdown")
    p.add_argument("--checkpoints", default=None,
                   help="folder holding cf/, bash/, python/ (default: the shipped checkpoints/)")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)
    figures = {"benchmark": "memory", "gunicorn": one_worker(args.checkpoints)}
    for key, value in figures["gunicorn"].items():
        print(f"{key:28s} {value:8.1f}")
    if not args.no_in_process:
        figures["in_process"] = in_process(args.checkpoints)
        for key, value in figures["in_process"].items():
            print(f"{key:28s} {value:8.1f}")
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
