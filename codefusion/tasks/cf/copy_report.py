"""How well literal extraction recovers the gold rules' literals (codefusion/tasks/cf/literals.py).

    python -m codefusion.tasks.cf.copy_report [--data DIR] [--misses N]
"""
from __future__ import annotations

from .literals import mask_request, rule_literal_spans, slot_for


def copy_accuracy(records) -> dict:
    """How many gold literals the extraction can recover. `records` yields (request, code[, header,
    values]). Returns counts and shares: `records_all_recoverable` over records that have literals,
    `literals_recoverable` over literals, and `literal_in_request` (the upper bound: the literal's
    spelling occurs in the request at all; `records_all_in_request` per record). The "in request"
    figures are substring tests, so they over-count ("1" is in "sheet1")."""
    n_records = n_with = n_all = n_lits = n_rec = n_present = n_all_present = 0
    misses = []
    for rec in records:
        request, code = rec[0] or "", rec[1] or ""
        header = rec[2] if len(rec) > 2 else None
        values = rec[3] if len(rec) > 3 else None
        n_records += 1
        golds = [s for _, _, s in rule_literal_spans(code)]
        if not golds:
            continue
        masked = mask_request(request, header, values)
        n_with += 1
        ok = True
        n_all_present += all(gold.lower() in request.lower() for gold in golds)
        for gold in golds:
            n_lits += 1
            if gold.lower() in request.lower():
                n_present += 1
            if slot_for(gold, masked) is not None:
                n_rec += 1
            else:
                ok = False
        n_all += ok
        if not ok:
            misses.append((request, code, masked.text))
    return {
        "records": n_records, "records_with_literals": n_with,
        "records_all_recoverable": n_all / n_with if n_with else 1.0,
        "records_all_in_request": n_all_present / n_with if n_with else 1.0,
        "literals": n_lits, "literals_recoverable": n_rec / n_lits if n_lits else 1.0,
        "literal_in_request": n_present / n_lits if n_lits else 1.0,
        "misses": misses,
    }


def main(argv=None) -> int:
    """python -m codefusion.tasks.cf.copy_report [--data DIR] [--misses N]: copy accuracy on the CF records."""
    import argparse
    import json

    from ...data import load_records, resolve_data_dir, split_records

    ap = argparse.ArgumentParser(prog="python -m codefusion.tasks.cf.copy_report", description=main.__doc__)
    ap.add_argument("--data", help="data dir (the folder holding codefusion/)")
    ap.add_argument("--misses", type=int, default=0, help="print this many records whose literals are not recovered")
    args = ap.parse_args(argv)
    records = load_records("cf", resolve_data_dir(args.data))
    train, dev = split_records("cf", records)
    report = {}
    for name, part in (("all", records), ("train", train), ("dev", dev)):
        result = copy_accuracy((r.nl, r.code) for r in part)
        misses = result.pop("misses")
        report[name] = result
        if name == "all":
            shown = misses[:args.misses]
    print(json.dumps(report, indent=1))
    for request, code, masked in shown:
        print(f"MISS {request!r} -> {code} | {masked}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
