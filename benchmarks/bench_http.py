"""CF generate over HTTP against a real gunicorn on 127.0.0.1 (started and stopped here).

Each request: POST /v1/cf/generate with a 1,000-row table and k=5. Reports latency p50/p95/p99
and requests/s at concurrency 1 and 8 (one keep-alive connection per client thread).

    .venv/bin/python -m benchmarks.bench_http [--requests 40] [--workers 2] [--steps N] [--json out.json]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live_server import LiveServer, add_server_options, percentile, send, write_json  # noqa: E402
from benchmarks.workload import sales_table  # noqa: E402


def run_level(server: LiveServer, body: dict, concurrency: int, n_requests: int, timeout_s: float) -> dict:
    """n_requests spread over `concurrency` client threads; latencies of the 200s, failures by status."""
    latencies, failures, lock = [], {}, threading.Lock()
    counter = iter(range(n_requests))

    def client():
        conn = server.connection(timeout=timeout_s)
        while True:
            with lock:
                if next(counter, None) is None:
                    break
            started = time.perf_counter()
            try:
                status, _ = send(conn, "POST", "/v1/cf/generate", body)
            except OSError as err:
                status = type(err).__name__
                conn.close()
                conn = server.connection(timeout=timeout_s)
            elapsed = time.perf_counter() - started
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    failures[str(status)] = failures.get(str(status), 0) + 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    return {"concurrency": concurrency, "requests": n_requests, "ok": len(latencies), "failures": failures,
            "wall_s": round(wall, 2), "requests_per_s": round(len(latencies) / wall, 3),
            "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1) if ms else None}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=40, help="requests per concurrency level (default 40)")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2: the machine has 2 cores)")
    p.add_argument("--threads", type=int, default=None, help="gunicorn threads per worker (default: its config)")
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--steps", type=int, default=None, help="sampling steps (default: the checkpoint's)")
    p.add_argument("--address", default=None,
                   help="where the rows sit in the sheet, as the add-in sends it (e.g. Sheet1!C5); default A1")
    p.add_argument("--timeout", type=float, default=300, help="client timeout per request, seconds")
    add_server_options(p)
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)

    body = {"request": "highlight sales under 500 in red", "table": sales_table(args.rows), "k": args.k, "seed": 0}
    if args.steps:
        body["steps"] = args.steps
    if args.address:
        body["address"] = args.address
    env = {"CF_LOG_LEVEL": "WARNING", "CF_MAX_TABLE_CELLS": str(max(20_000, (args.rows + 1) * 4))}
    if args.checkpoints:
        env["CF_SERVICE_CHECKPOINTS"] = str(Path(args.checkpoints).resolve())
    figures = {"benchmark": "http_cf_generate", "rows": args.rows, "k": args.k, "steps": args.steps, "address": args.address,
               "workers": args.workers, "levels": []}
    with LiveServer(app=args.app, workers=args.workers, threads=args.threads, env=env, ready_timeout_s=300) as server:
        for _ in range(2):   # warm-up: first requests pay for lazy initialisation
            status, answer = server.request("POST", "/v1/cf/generate", body, timeout=args.timeout)
            if status != 200:
                print(f"warm-up request failed: {status} {answer}", file=sys.stderr)
                return 1
        for level in args.concurrency:
            row = run_level(server, body, level, args.requests, args.timeout)
            figures["levels"].append(row)
            print(f"concurrency {level:>2}: p50 {row['p50_ms']:8.1f} ms  p95 {row['p95_ms']:8.1f} ms  "
                  f"p99 {row['p99_ms']:8.1f} ms  {row['requests_per_s']:6.2f} req/s  "
                  f"ok {row['ok']}/{row['requests']}  failures {row['failures'] or 'none'}")
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
