"""Batch end to end: 100 CF requests over a 10,000-row workbook, workbook bytes in, formatted
workbook bytes out (generate, rank, preview on each range, write natively), then a check that
every package part the input had is still there.

    .venv/bin/python -m benchmarks.bench_batch [--rows 10000] [--requests 100] [-k 5] [--http] [--json out.json]

In-process by default (cf_service.batch.run_batch); --http sends the same upload to
POST /v1/cf/batch on a real gunicorn on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.live_server import LiveServer, send, write_json  # noqa: E402
from benchmarks.workload import CF_REQUESTS  # noqa: E402

COLUMNS = ["Region", "Name", "Sales", "Cost", "Units", "Margin", "Date", "Status", "Score", "Notes"]


def big_workbook(n_rows: int) -> bytes:
    """10 columns of mixed data (numbers, text, dates), written with openpyxl's streaming writer."""
    import datetime as dt
    import random

    from openpyxl import Workbook
    rng = random.Random(0)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(COLUMNS)
    for i in range(n_rows):
        ws.append([["North", "South", "East", "West"][i % 4], f"Item {i}", round(rng.uniform(0, 1000), 2),
                   round(rng.uniform(0, 800), 2), rng.randint(1, 50), round(rng.uniform(-0.2, 0.6), 3),
                   dt.date(2024, 1, 1) + dt.timedelta(days=i % 365), ["Open", "Done", "Late"][i % 3],
                   rng.randint(0, 100), "" if i % 7 else "check"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def requests_for(n: int, n_rows: int) -> list[dict]:
    """n requests cycling over the columns and the request texts; each range is a whole column."""
    from openpyxl.utils import get_column_letter
    items = []
    for i in range(n):
        col = get_column_letter(1 + i % len(COLUMNS))
        items.append({"sheet": "Data", "range": f"{col}1:{col}{n_rows + 1}",
                      "request": CF_REQUESTS[i % len(CF_REQUESTS)]})
    return items


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--requests", type=int, default=100)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--http", action="store_true", help="through POST /v1/cf/batch on gunicorn")
    p.add_argument("--checkpoints", default=None,
                   help="folder holding cf/, bash/, python/ (default: the shipped checkpoints/)")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)

    started = time.perf_counter()
    workbook = big_workbook(args.rows)
    build_s = time.perf_counter() - started
    items = requests_for(args.requests, args.rows)
    print(f"workbook: {args.rows} rows x {len(COLUMNS)} columns, {len(workbook) / 1e6:.2f} MB "
          f"(built in {build_s:.1f} s); {len(items)} requests")

    if args.http:
        body, content_type = multipart({"requests": json.dumps(items), "k": str(args.k), "seed": "0"},
                                       {"workbook": ("big.xlsx", workbook)})
        env = {"CF_LOG_LEVEL": "WARNING", "CF_MAX_BATCH_REQUESTS": str(max(200, args.requests))}
        if args.checkpoints:
            env["CF_SERVICE_CHECKPOINTS"] = str(Path(args.checkpoints).resolve())
        with LiveServer(workers=1, env=env, ready_timeout_s=300) as server:
            started = time.perf_counter()
            status, answer = send(server.connection(timeout=3600), "POST", "/v1/cf/batch", body,
                                  headers={"Content-Type": content_type}, close=True)
            total_s = time.perf_counter() - started
        if status != 200:
            print(f"batch failed: {status} {str(answer)[:1000]}")
            return 1
        output, report = base64.b64decode(answer["workbook_base64"]), answer["report"]
        load_s = None
    else:
        import torch
        torch.set_num_threads(args.threads)
        from cf_service.batch import BatchItem, run_batch
        from codefusion.generate import load_generator
        started = time.perf_counter()
        generator = load_generator("cf", checkpoint=str(Path(args.checkpoints) / "cf") if args.checkpoints else None)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        output, report = run_batch(workbook, [BatchItem(**item) for item in items], generator, k=args.k,
                                   steps=args.steps, seed=0, progress=False)
        total_s = time.perf_counter() - started

    from tests.reliability.corpus import package_problems, read_parts, sheet_part, styles_part
    parts = read_parts(workbook)
    problems = package_problems(workbook, output, {sheet_part(parts, "Data"), styles_part(parts)})
    figures = {"benchmark": "batch", "mode": "http" if args.http else "in_process", "rows": args.rows,
               "requests": args.requests, "k": args.k, "steps": args.steps, "workbook_mb": round(len(workbook) / 1e6, 2),
               "model_load_s": round(load_s, 2) if load_s is not None else None, "total_s": round(total_s, 2),
               "per_request_s": round(total_s / args.requests, 3), "applied": report["applied"],
               "failed": report["failed"], "output_mb": round(len(output) / 1e6, 2), "package_problems": problems}
    print(f"total {total_s:.1f} s ({figures['per_request_s']:.2f} s/request); applied {report['applied']}, "
          f"failed {report['failed']}; output {figures['output_mb']} MB; package problems: {problems or 'none'}")
    statuses = {}
    for result in report["results"]:
        key = result["status"] if result["status"] != "error" else f"error:{result['error']['code']}"
        statuses[key] = statuses.get(key, 0) + 1
    figures["statuses"] = statuses
    print("statuses:", statuses)
    write_json(args.json, figures)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
