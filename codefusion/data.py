"""Training data: where it lives, how records load, the dev split, and the code-only pretraining corpora.

Data directory, first that applies: the `--data DIR` argument, $CODEFUSION_DATA, `<repo>/../shared/data`.
Layout under it: codefusion/train/{cf,bash,python}_train.json, codefusion/pretraining/*.txt.

Dev split: a record is dev when sha1("<task>:<ID>") mod 100 < 10 (about 10 %). Hashing the ID keeps the
split stable across runs and machines and, for Python (CoNaLa IDs are StackOverflow question ids shared
by several intents), keeps all intents of one question on the same side. evaluate.py uses `split_records`
too, so model selection and evaluation agree.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TASKS = ("cf", "bash", "python")
DEV_PERCENT = 10
_SNIPPET_FILES = {"cf": "ConditionalFormattingSnippets.txt", "bash": "BashSnippets.txt"}


@dataclass
class Record:
    id: int
    nl: str
    code: str
    table: list | None = None    # CF: rows, header first
    labels: list | None = None   # CF: 0/1 flags for execution match


def resolve_data_dir(arg: str | os.PathLike | None = None) -> Path:
    """The data root (the folder that holds `codefusion/`)."""
    for candidate, origin in ((arg, "--data"), (os.environ.get("CODEFUSION_DATA"), "$CODEFUSION_DATA"),
                              (REPO_ROOT.parent / "shared" / "data", "default <repo>/../shared/data")):
        if candidate:
            path = Path(candidate).expanduser()
            if origin != "default <repo>/../shared/data" or path.exists():
                if not (path / "codefusion").is_dir():
                    raise FileNotFoundError(f"data dir {path} (from {origin}) has no codefusion/ folder; "
                                            "point --data or $CODEFUSION_DATA at the folder that contains codefusion/")
                return path
    raise FileNotFoundError("no data dir: pass --data DIR or set $CODEFUSION_DATA (the folder holding codefusion/)")


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")


def load_records(task: str, data_dir=None, path=None) -> list[Record]:
    """Records of `<data>/codefusion/train/<task>_train.json` (or an explicit `path`, list or {"train": [...]}).
    Records whose NL is null or whose code is empty are skipped, with a warning giving the count."""
    _check_task(task)
    path = Path(path) if path else resolve_data_dir(data_dir) / "codefusion" / "train" / f"{task}_train.json"
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    if isinstance(raw, dict):
        raw = raw.get("train", raw.get("records"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of records (or {{'train': [...]}})")
    records, skipped = [], 0
    for i, r in enumerate(raw):
        if not isinstance(r, dict) or "Code" not in r or "ID" not in r:
            raise ValueError(f"{path}: record #{i} lacks 'ID'/'Code' keys: {str(r)[:120]}")
        nl = r.get("NL Utterance", r.get("NL"))
        if nl is None or not str(r["Code"] or "").strip():
            skipped += 1
            continue
        records.append(Record(int(r["ID"]), str(nl), str(r["Code"]), r.get("Data"), r.get("Labels")))
    if skipped:
        warnings.warn(f"{path.name}: skipped {skipped} records with null NL or empty code")
    return records


def is_dev(task: str, record_id) -> bool:
    digest = hashlib.sha1(f"{task}:{record_id}".encode()).hexdigest()
    return int(digest, 16) % 100 < DEV_PERCENT


def split_records(task: str, records: list[Record]) -> tuple[list[Record], list[Record]]:
    """(train, dev) by the hash of each record's ID."""
    train = [r for r in records if not is_dev(task, r.id)]
    dev = [r for r in records if is_dev(task, r.id)]
    return train, dev


def load_pretraining_snippets(task: str, data_dir=None) -> list[str]:
    """Unique non-empty lines of the task's snippet file, in file order (empty list for Python: see load_python_corpus)."""
    _check_task(task)
    if task == "python":
        return load_python_corpus()
    path = resolve_data_dir(data_dir) / "codefusion" / "pretraining" / _SNIPPET_FILES[task]
    if not path.is_file():
        warnings.warn(f"no pretraining snippets at {path}; stage 1 will use the training codes only")
        return []
    seen = dict.fromkeys(line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
    seen.pop("", None)
    return list(seen)


def load_python_corpus() -> list[str]:
    """Code-only Python snippets from codefusion/python_corpus.py (written separately), or [] with a warning."""
    try:
        from . import python_corpus
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.python_corpus":
            raise
        warnings.warn("codefusion/python_corpus.py not found: Python pretraining uses the training codes only")
        return []
    snippets = python_corpus.build_python_corpus()
    return [s for s in dict.fromkeys(s.strip() for s in snippets) if s]
