"""Evaluate a code generator on a benchmark file: top-1/3/5 metrics, diversity and latency.

    python -m codefusion.evaluate --task cf --data BENCH.json [--split test|dev|train] [-k 5]
        [--system codefusion|retrieval|autoregressive] [--checkpoint DIR] [--steps N] [--seed S]
        [--limit N] [--json OUT.json] [--predictions OUT.jsonl]

The benchmark file is a JSON list of records {"ID", "NL Utterance", "Code"[, "Data", "Labels"]}
or an object of such lists keyed by split name. Which records `--split` picks:

- object file: the list under that key; `dev` when the file has no "dev" key is the dev part of
  its "train" list (codefusion.data's hash split, the one training uses for model selection).
- list file: `test` (the default) takes the whole list; `dev` takes the dev part of the list and
  `train` the rest, by the same hash split. So `--data train/cf_train.json --split dev` is the
  held-out dev set, never seen by models trained with codefusion.train.

Records whose NL is null (or blank) are skipped and counted (`skipped_null_nl`).

Systems (the `System` protocol below): `codefusion` (codefusion.generate.load_generator, the
shipped checkpoint or `--checkpoint DIR`), `retrieval` (baselines/retrieval.py; `--checkpoint DIR`
loads a saved index, or builds it there from the train part of the task's training data when DIR
does not exist yet; without it the index is built in memory), `autoregressive`
(codefusion.baselines.autoregressive.load_system). Every system gets the record's table for CF;
whether it reads it is up to the system.

Metrics, K in 1, 3, 5 (values are fractions, BLEU is 0-100); metric@K looks at the first K
candidates, a system may return fewer:
- cf: exec_match@K (any of the first K formats exactly the reference's cells when painted on the
  whole table as the service paints it; see metrics/cf_exec.py), exec_match_value@K (the benchmark's
  own: rules run on the Value column), valid@K (share of the first K candidates that parse, averaged
  over records).
- bash: template_match@K (NL2Bash template, metrics/bash_template.py), exact_match@K.
- python: bleu@K (CoNaLa corpus BLEU over the best of the first K), exact_match@K (CoNaLa token
  equality), valid@K (share that ast.parse accepts).
- all: diversity@5 (distinct-candidate ratio), pairwise_edit@5, self_bleu_div@5 (metrics/diversity.py),
  cf: distinct_exec@5 (distinct behaviours among parsing candidates); latency_ms_mean/p50/p95
  (wall time of one generate call).
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from codefusion.data import TASKS

SYSTEMS = ("codefusion", "retrieval", "autoregressive")
SPLITS = ("test", "dev", "train")
REPORTED_K = (1, 3, 5)
DIVERSITY_K = 5


@runtime_checkable
class System(Protocol):
    """Anything that turns a request (and, for CF, a table) into ranked candidates."""
    name: str

    def generate(self, request: str, table=None, k: int = 5) -> list:
        """Candidates best first; each has `.code` (str) and `.score` (float)."""
        ...


class CodeFusionSystem:
    """The diffusion generator behind the `System` protocol (fixed steps and seed per run)."""

    name = "codefusion"

    def __init__(self, generator, steps: int | None = None, seed: int | None = 0):
        self.generator = generator
        self.steps = steps
        self.seed = seed

    def generate(self, request: str, table=None, k: int = 5) -> list:
        return self.generator.generate(request, table=table, k=k, steps=self.steps, seed=self.seed)


@dataclass
class Benchmark:
    records: list[dict]
    skipped_null_nl: int
    split: str


@dataclass
class Prediction:
    record: dict
    codes: list[str]
    scores: list[float]
    latency_ms: float
    paints: list[dict | None] = field(default_factory=list)   # CF: what each candidate paints (cf_rules.paint)


@dataclass
class Report:
    task: str
    system: str
    n: int
    metrics: dict[str, float]
    counts: dict[str, int] = field(default_factory=dict)
    per_record: list[dict] = field(default_factory=list)

    def to_json(self, extra: dict | None = None) -> dict:
        out = {"task": self.task, "system": self.system, "n": self.n, "metrics": self.metrics, "counts": self.counts}
        out.update(extra or {})
        return out


# ----------------------------------------------------------------------------------------------
# data

def _check_records(records, where: str) -> list[dict]:
    if not isinstance(records, list):
        raise ValueError(f"{where}: expected a list of records, got {type(records).__name__}")
    for i, record in enumerate(records):
        if not isinstance(record, dict) or "Code" not in record or "NL Utterance" not in record:
            raise ValueError(f"{where}: record #{i} needs the keys 'NL Utterance' and 'Code' "
                             f"(benchmark format {{'ID', 'NL Utterance', 'Code'[, 'Data', 'Labels']}}), "
                             f"got {str(record)[:120]}")
    return records


def _dev_part(task: str, records: list[dict], dev: bool) -> list[dict]:
    from codefusion.data import is_dev
    return [r for r in records if is_dev(task, r.get("ID")) == dev]


def load_benchmark(path: str | Path, task: str, split: str = "test") -> Benchmark:
    """The records of `split` in a benchmark file (see the module doc for how splits are chosen)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"benchmark file {path} does not exist; pass --data FILE (a JSON benchmark)") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); expected a benchmark list or an object of lists") from None

    if isinstance(raw, dict):
        if split in raw:
            records = _check_records(raw[split], f"{path}[{split!r}]")
        elif split == "dev" and "train" in raw:
            records = _dev_part(task, _check_records(raw["train"], f"{path}['train']"), dev=True)
        else:
            raise ValueError(f"{path} has no split {split!r}; it has {sorted(raw)} (dev can be carved from 'train')")
    else:
        records = _check_records(raw, str(path))
        if split in ("dev", "train"):
            records = _dev_part(task, records, dev=(split == "dev"))

    kept = [r for r in records if r.get("NL Utterance") is not None and str(r["NL Utterance"]).strip()]
    return Benchmark(kept, len(records) - len(kept), split)


def train_records_for(task: str, data_root: str | None = None) -> list:
    """The task's training records without the dev part (what baselines may learn from)."""
    from codefusion.data import load_records, split_records
    train, _dev = split_records(task, load_records(task, data_root))
    return train


# ----------------------------------------------------------------------------------------------
# systems

def build_system(name: str, task: str, checkpoint: str | None = None, steps: int | None = None,
                 seed: int | None = 0, data_root: str | None = None, eta: float | None = None,
                 oversample: int | None = None, projection: str | None = None,
                 alternatives: int | None = None, restart_t: int | None = None,
                 restarts: int | None = None) -> System:
    if name == "codefusion":
        from codefusion.generate import load_generator
        generator = load_generator(task, checkpoint, eta=eta, oversample=oversample, projection=projection,
                                   alternatives=alternatives, restart_t=restart_t, restarts=restarts)
        return CodeFusionSystem(generator, steps=steps, seed=seed)
    if name == "retrieval":
        from codefusion.baselines.retrieval import RetrievalSystem
        if checkpoint and (Path(checkpoint) / "index.json").is_file():
            system = RetrievalSystem.load(checkpoint)
            if system.task and system.task != task:
                raise ValueError(f"retrieval index {checkpoint} was built for task {system.task!r}, not {task!r}")
            return system
        system = RetrievalSystem.fit(train_records_for(task, data_root), task=task)
        if checkpoint:
            system.save(checkpoint)
        return system
    if name == "autoregressive":
        try:
            from codefusion.baselines import autoregressive
        except ModuleNotFoundError as exc:
            if exc.name != "codefusion.baselines.autoregressive":
                raise
            raise SystemExit("--system autoregressive needs codefusion/baselines/autoregressive.py "
                             "(with load_system(task, checkpoint=None)); it is not installed") from None
        return autoregressive.load_system(task, checkpoint=checkpoint)
    raise ValueError(f"unknown system {name!r}; choose one of {SYSTEMS}")


def run_system(system: System, task: str, records: list[dict], k: int, progress: bool = True) -> list[Prediction]:
    from tqdm import tqdm
    predictions = []
    for record in tqdm(records, desc=f"{task}/{system.name}", file=sys.stderr, disable=not progress):
        table = record.get("Data") if task == "cf" else None
        start = time.perf_counter()
        candidates = list(system.generate(record["NL Utterance"], table=table, k=k))[:k]
        latency = (time.perf_counter() - start) * 1000.0
        predictions.append(Prediction(record, [str(c.code) for c in candidates],
                                      [float(c.score) for c in candidates], latency,
                                      [_paint_dict(getattr(c, "paint", None)) for c in candidates]))
    return predictions


# ----------------------------------------------------------------------------------------------
# scoring

def reported_ks(k: int) -> list[int]:
    return sorted({kk for kk in (*REPORTED_K, k) if 1 <= kk <= k})


def _paint_dict(paint) -> dict | None:
    if paint is None or isinstance(paint, dict):
        return paint
    return paint.to_dict()


def _python_valid(code: str) -> bool:
    try:
        ast.parse(code)
        return True
    except (SyntaxError, ValueError):
        return False


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _first_hit(hits: list[bool]) -> int | None:
    """1-based rank of the first matching candidate, None when none matches."""
    return next((i + 1 for i, hit in enumerate(hits) if hit), None)


def score_predictions(task: str, predictions: list[Prediction], k: int) -> Report:
    """Every metric of the module doc for one task; per_record keeps each record's hits."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    from codefusion.metrics.diversity import diversity

    ks = reported_ks(k)
    metrics: dict[str, float] = {}
    counts: dict[str, int] = {}
    per_record: list[dict] = []
    hit_lists: dict[str, list[list[bool]]] = {}   # metric name -> per record, per candidate
    valid_lists: list[list[bool]] = []

    if task == "cf":
        from codefusion.metrics.cf_exec import CFReference
        counts.update(reference_fallback=0, reference_unparsed=0)
        distinct_exec = []
        for p in predictions:
            reference = CFReference(p.record["Code"], p.record.get("Data"), p.record.get("Format"), whole_table=True)
            value_reference = CFReference(p.record["Code"], p.record.get("Data"))
            if not reference.executable:
                counts["reference_fallback"] += 1
                counts["reference_unparsed"] += not reference.run.parses
            paints = p.paints or [None] * len(p.codes)
            runs = [reference.run_candidate(code, paint) for code, paint in zip(p.codes, paints)]
            hit_lists.setdefault("exec_match", []).append([reference.matches_run(run) for run in runs])
            hit_lists.setdefault("exec_match_value", []).append([value_reference.matches(code) for code in p.codes])
            valid_lists.append([run.parses for run in runs])
            behaviours = {(run.cells, run.visual_kind) if run.cells is not None else run.canonical
                          for run in runs[:DIVERSITY_K] if run.parses}
            distinct_exec.append(len(behaviours))
        metrics[f"distinct_exec@{DIVERSITY_K}"] = _mean(distinct_exec)
    elif task == "bash":
        from codefusion.metrics.bash_template import exact_match, template_with_source
        counts.update(reference_regex_fallback=0, candidate_regex_fallback=0)
        for p in predictions:
            ref_template, ref_parsed = template_with_source(p.record["Code"])
            counts["reference_regex_fallback"] += not ref_parsed
            hits = []
            for code in p.codes:
                cand_template, cand_parsed = template_with_source(code)
                counts["candidate_regex_fallback"] += not cand_parsed
                hits.append(cand_template == ref_template)
            hit_lists.setdefault("template_match", []).append(hits)
            hit_lists.setdefault("exact_match", []).append([exact_match(p.record["Code"], c) for c in p.codes])
    else:
        from codefusion.metrics.bleu import conala_exact_match, corpus_bleu_at_k
        references = [p.record["Code"] for p in predictions]
        for kk in ks:
            metrics[f"bleu@{kk}"] = corpus_bleu_at_k(references, [p.codes for p in predictions], kk)
        for p in predictions:
            hit_lists.setdefault("exact_match", []).append([conala_exact_match(p.record["Code"], c) for c in p.codes])
            valid_lists.append([_python_valid(c) for c in p.codes])

    for name, per_prediction in hit_lists.items():
        for kk in ks:
            metrics[f"{name}@{kk}"] = _mean(any(hits[:kk]) for hits in per_prediction)
    if valid_lists:
        for kk in ks:
            metrics[f"valid@{kk}"] = _mean(_mean(v[:kk]) if v[:kk] else 0.0 for v in valid_lists)

    diversities = [diversity(p.codes[:DIVERSITY_K]) for p in predictions]
    for key in ("distinct", "pairwise_edit", "self_bleu_div"):
        name = "diversity" if key == "distinct" else key
        metrics[f"{name}@{DIVERSITY_K}"] = _mean(d[key] for d in diversities)
    latencies = [p.latency_ms for p in predictions]
    metrics.update(latency_ms_mean=_mean(latencies), latency_ms_p50=_percentile(latencies, 50),
                   latency_ms_p95=_percentile(latencies, 95))
    metrics["candidates_mean"] = _mean(len(p.codes) for p in predictions)

    for i, p in enumerate(predictions):
        entry = {"id": p.record.get("ID"), "request": p.record["NL Utterance"], "reference": p.record["Code"],
                 "latency_ms": round(p.latency_ms, 3),
                 "candidates": [{"code": c, "score": s} for c, s in zip(p.codes, p.scores)]}
        for cand, paint in zip(entry["candidates"], p.paints):
            if paint is not None:
                cand["paint"] = paint
        for name, per_prediction in hit_lists.items():
            for cand, hit in zip(entry["candidates"], per_prediction[i]):
                cand[name] = hit
            entry[f"{name}_rank"] = _first_hit(per_prediction[i])
        if valid_lists:
            for cand, valid in zip(entry["candidates"], valid_lists[i]):
                cand["valid"] = valid
        per_record.append(entry)

    return Report(task, "", len(predictions), metrics, counts, per_record)


def evaluate(system: System, task: str, records: list[dict], k: int = 5, progress: bool = True) -> Report:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    report = score_predictions(task, run_system(system, task, records, k, progress), k)
    report.system = getattr(system, "name", type(system).__name__)
    return report


def format_report(report: Report, skipped: int = 0) -> str:
    """A plain-text table: one row per metric family, one column per K."""
    ks = sorted({int(name.rsplit("@", 1)[1]) for name in report.metrics if "@" in name})
    families: dict[str, dict[int, float]] = {}
    other: dict[str, float] = {}
    for name, value in report.metrics.items():
        base, at, kk = name.rpartition("@")
        if at and base not in ("diversity", "pairwise_edit", "self_bleu_div", "distinct_exec"):
            families.setdefault(base, {})[int(kk)] = value
        else:
            other[name] = value
    lines = [f"{report.task} / {report.system}: n={report.n} (skipped {skipped} with null NL)",
             f"{'metric':<16}" + "".join(f"{'@' + str(kk):>10}" for kk in ks)]
    for base, values in families.items():
        cells = "".join(f"{values[kk]:>10.4f}" if kk in values else f"{'':>10}" for kk in ks)
        lines.append(f"{base:<16}{cells}")
    lines.append("  ".join(f"{name}={value:.4g}" for name, value in other.items()))
    if report.counts:
        lines.append("  ".join(f"{name}={value}" for name, value in report.counts.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codefusion.evaluate", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--data", required=True, help="benchmark JSON: a list of records or an object of lists by split")
    parser.add_argument("--split", default="test", choices=SPLITS,
                        help="which records (default test; dev/train on a plain list = codefusion.data's hash split)")
    parser.add_argument("-k", type=int, default=5, help="candidates per request (default 5)")
    parser.add_argument("--system", default="codefusion", choices=SYSTEMS)
    parser.add_argument("--checkpoint", help="model checkpoint dir (codefusion/autoregressive) or retrieval index dir")
    parser.add_argument("--steps", type=int, help="diffusion sampling steps (codefusion only)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed passed to every request (codefusion only)")
    parser.add_argument("--eta", type=float, help="DDIM stochasticity, 0 = deterministic (codefusion only; default from the checkpoint)")
    parser.add_argument("--oversample", type=int, help="draw k*N samples, keep the k best distinct (codefusion only)")
    parser.add_argument("--alternatives", type=int,
                        help="runner-up swap variants decoded per sample (codefusion only; default from the checkpoint)")
    parser.add_argument("--restart-t", type=int, help="restart every draw from this diffusion step, 0 = off "
                        "(codefusion only; model.restart)")
    parser.add_argument("--restarts", type=int, help="restarts per draw with --restart-t (codefusion only)")
    parser.add_argument("--projection", choices=("none", "clamp", "sphere", "soft"),
                        help="x0 projection between sampling steps (codefusion only; default from the checkpoint)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N records")
    parser.add_argument("--data-root", help="training data root for fitting baselines (see codefusion.data)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1; the machine is shared)")
    parser.add_argument("--json", help="write {task, system, n, metrics} here")
    parser.add_argument("--predictions", help="write each record's candidates and hits here (JSON lines)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    if args.k < 1:
        parser.error(f"-k must be >= 1, got {args.k}")
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be >= 1, got {args.limit}")
    try:
        benchmark = load_benchmark(args.data, args.task, args.split)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    records = benchmark.records[:args.limit] if args.limit else benchmark.records
    if not records:
        parser.error(f"no records to evaluate in {args.data} (split {args.split}, {benchmark.skipped_null_nl} with null NL)")

    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    system = build_system(args.system, args.task, args.checkpoint, args.steps, args.seed, args.data_root,
                          eta=args.eta, oversample=args.oversample, projection=args.projection,
                          alternatives=args.alternatives, restart_t=args.restart_t,
                          restarts=args.restarts)
    report = evaluate(system, args.task, records, args.k, progress=not args.no_progress)
    report.system = args.system
    print(format_report(report, benchmark.skipped_null_nl))

    if args.json:
        extra = {"split": args.split, "data": str(args.data), "k": args.k,
                 "skipped_null_nl": benchmark.skipped_null_nl, "checkpoint": args.checkpoint,
                 "steps": args.steps, "seed": args.seed}
        Path(args.json).write_text(json.dumps(report.to_json(extra), indent=2) + "\n", encoding="utf-8")
    if args.predictions:
        with open(args.predictions, "w", encoding="utf-8") as f:
            for entry in report.per_record:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
