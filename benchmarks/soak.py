"""Soak: a mixed request load at concurrency 16 for N minutes against a real gunicorn on
127.0.0.1; reports failed requests and each worker's resident memory over time.

    .venv/bin/python -m benchmarks.soak [--minutes 10] [--concurrency 16] [--workers 2] [--json out.json]

A failure is any non-2xx answer except the documented 4xx the mix sends on purpose
(validate of a broken rule answers 200 {"valid": false}), or a connection error/timeout.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live_server import LiveServer, add_server_options, percentile, rss_kib, send, write_json  # noqa: E402
from benchmarks.workload import mixed_requests  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--sample-every", type=float, default=10.0, help="seconds between memory samples")
    p.add_argument("--timeout", type=float, default=120.0, help="client timeout per request, seconds")
    p.add_argument("--max-requests", type=int, default=1_000_000, help="stop after this many requests")
    add_server_options(p)
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)

    lock = threading.Lock()
    stats = {"ok": 0, "failed": 0, "by_status": {}, "latency_ms": []}
    samples = []
    stop_at = time.monotonic() + args.minutes * 60
    sent = iter(range(args.max_requests))

    env = {"CF_LOG_LEVEL": "WARNING"}
    if args.checkpoints:
        env["CF_SERVICE_CHECKPOINTS"] = str(Path(args.checkpoints).resolve())
    with LiveServer(app=args.app, workers=args.workers, env=env, ready_timeout_s=300) as server:
        def client(seed: int):
            mix = mixed_requests(seed)
            conn = server.connection(timeout=args.timeout)
            while time.monotonic() < stop_at:
                with lock:
                    if next(sent, None) is None:
                        break
                method, path, body = next(mix)
                started = time.perf_counter()
                try:
                    status, _ = send(conn, method, path, body)
                except OSError as err:
                    status = type(err).__name__
                    conn.close()
                    conn = server.connection(timeout=args.timeout)
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    key = f"{method} {path} {status}"
                    stats["by_status"][key] = stats["by_status"].get(key, 0) + 1
                    if status == 200:
                        stats["ok"] += 1
                        stats["latency_ms"].append(ms)
                    else:
                        stats["failed"] += 1
            conn.close()

        def sample():
            workers = server.worker_pids()
            samples.append({"t_s": round(args.minutes * 60 - (stop_at - time.monotonic()), 1),
                            "workers": {str(pid): rss_kib(pid) for pid in workers},
                            "arbiter_kib": rss_kib(server.arbiter_pid),
                            "ok": stats["ok"], "failed": stats["failed"]})
            s = samples[-1]
            print(f"t={s['t_s']:6.0f}s ok={s['ok']:6d} failed={s['failed']:4d} "
                  f"rss MiB=" + ", ".join(f"{pid}:{kib / 1024:.0f}" for pid, kib in s["workers"].items()),
                  flush=True)

        sample()
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.concurrency)]
        for t in threads:
            t.start()
        last = time.monotonic()
        while any(t.is_alive() for t in threads):
            time.sleep(0.2)
            if time.monotonic() - last >= args.sample_every:
                sample()
                last = time.monotonic()
        for t in threads:
            t.join(timeout=args.timeout)
        sample()
        log_tail = server.log_tail(2000)

    growth = {}
    first, last = samples[0]["workers"], samples[-1]["workers"]
    for pid, kib in last.items():
        # the first sample of each worker: a worker restarted by gunicorn starts its own series
        start = next((s["workers"][pid] for s in samples[1:] if pid in s["workers"]), first.get(pid, kib))
        growth[pid] = {"start_mib": round(start / 1024, 1), "end_mib": round(kib / 1024, 1),
                       "growth_mib": round((kib - start) / 1024, 1)}
    lat = stats["latency_ms"]
    figures = {"benchmark": "soak", "minutes": args.minutes, "concurrency": args.concurrency,
               "workers": args.workers, "ok": stats["ok"], "failed": stats["failed"],
               "requests_per_s": round((stats["ok"] + stats["failed"]) / (args.minutes * 60), 2),
               "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
               "p99_ms": round(percentile(lat, 99), 1), "by_status": stats["by_status"],
               "rss_growth": growth, "worker_restarts": len({p for s in samples for p in s["workers"]}) - args.workers,
               "samples": samples}
    print(f"\n{stats['ok']} ok, {stats['failed']} failed, {figures['requests_per_s']} req/s, "
          f"p50 {figures['p50_ms']} ms p95 {figures['p95_ms']} ms p99 {figures['p99_ms']} ms")
    for key, n in sorted(stats["by_status"].items()):
        print(f"  {n:6d}  {key}")
    for pid, g in growth.items():
        print(f"  worker {pid}: {g['start_mib']} -> {g['end_mib']} MiB ({g['growth_mib']:+} MiB)")
    if stats["failed"]:
        print("server log tail:\n" + log_tail)
    write_json(args.json, figures)
    return 0 if stats["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
