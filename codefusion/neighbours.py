"""The retrieval memory of the Bash and Python models: train requests' sentence embeddings and their codes.

    store = Datastore.for_task("bash")                 # built from the task's train split, cached on disk
    store.nearest(store.embed(["list all files"]), m=4) -> (indices [1, 4], similarities [1, 4])
    python -m codefusion.neighbours build --task bash  # build (or rebuild) the cache and print where it is

Requests are embedded as the retrieval baseline does (MiniLM mean pooling, L2 norm; baselines/retrieval.py),
and the m nearest train pairs by cosine similarity are a request's neighbours. The retrieval-augmented model
cross-attends to the neighbours' codes, and the code candidates (tasks/code_candidates.py) edit them.

The store is derived from the benchmark data, which is read from its path and never committed: it is built
from `<data>/codefusion/train/<task>_train.json` (the train part of the hash split, so dev requests are
never their own neighbours) and cached under `$CODEFUSION_CACHE` (default `~/.cache/codefusion`), keyed by
the data file's SHA-256. Sources and licences, stated with every store (`SOURCES`): the Bash pairs are
NL2Bash (Lin et al., 2018; data licence MIT, "Copyright (c) 2020 NL2Bash dataset"), the Python pairs CoNaLa
(Yin et al., 2018; CC BY-SA 4.0), both as redistributed in microsoft/prose-benchmarks (CodeFusion).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STORE_VERSION = 1
SOURCES = {
    "bash": {"dataset": "NL2Bash (Lin et al., 2018), via microsoft/prose-benchmarks CodeFusion/Benchmarks",
             "license": "MIT (NL2Bash data licence, Copyright (c) 2020 NL2Bash dataset)"},
    "python": {"dataset": "CoNaLa (Yin et al., 2018), via microsoft/prose-benchmarks CodeFusion/Benchmarks",
               "license": "CC BY-SA 4.0 (attribution: the CoNaLa authors; share-alike applies to the codes)"},
}


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def cache_root() -> Path:
    return Path(os.environ.get("CODEFUSION_CACHE", Path.home() / ".cache" / "codefusion"))


@dataclass
class Datastore:
    task: str
    requests: list[str]
    codes: list[str]
    embeddings: np.ndarray          # [N, D] float32, rows L2-normalized
    source: dict
    _embedder: object = None
    ids: list | None = None         # benchmark record IDs (CoNaLa: StackOverflow question IDs, shared by a question's pairs)

    def __post_init__(self):
        if not (len(self.requests) == len(self.codes) == len(self.embeddings)) or not self.codes:
            raise ValueError(f"datastore for {self.task!r} is empty or inconsistent: {len(self.requests)} requests, "
                             f"{len(self.codes)} codes, {len(self.embeddings)} embeddings")

    def __len__(self) -> int:
        return len(self.codes)

    # -- embedding and search
    @property
    def embedder(self):
        if self._embedder is None:
            from .baselines.retrieval import SentenceEmbedder
            self._embedder = SentenceEmbedder()
        return self._embedder

    def embed(self, requests: list[str]) -> np.ndarray:
        return self.embedder([_clean(r) for r in requests])

    def nearest(self, queries: np.ndarray, m: int, exclude: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(indices [Q, m], cosine similarities [Q, m]) of the m most similar stored requests, best first.
        `exclude[q]` (a store index, or -1) is left out for query q, and so is every pair with its record ID:
        a training pair is not its own neighbour, nor are the other pairs of its CoNaLa question."""
        sims = queries @ self.embeddings.T
        if exclude is not None:
            for q, row in enumerate(exclude):
                if row >= 0:
                    sims[q, self._same_record(row)] = -np.inf
        m = min(m, len(self))
        top = np.argpartition(-sims, m - 1, axis=1)[:, :m]
        order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, 1)
        return top, np.take_along_axis(sims, top, 1)

    def _same_record(self, row: int) -> list[int]:
        if self.ids is None:
            return [row]
        if not hasattr(self, "_rows_by_id"):
            self._rows_by_id: dict = {}
            for i, record_id in enumerate(self.ids):
                self._rows_by_id.setdefault(record_id, []).append(i)
        return self._rows_by_id[self.ids[row]]

    # -- persistence
    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "embeddings.npy", self.embeddings.astype(np.float16))
        meta = {"version": STORE_VERSION, "task": self.task, "source": self.source,
                "requests": self.requests, "codes": self.codes, "ids": self.ids}
        tmp = directory / "store.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, directory / "store.json")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "Datastore":
        directory = Path(directory)
        meta = json.loads((directory / "store.json").read_text(encoding="utf-8"))
        if meta.get("version") != STORE_VERSION:
            raise ValueError(f"{directory}: datastore version {meta.get('version')} != {STORE_VERSION}; rebuild it")
        embeddings = np.load(directory / "embeddings.npy").astype(np.float32)
        return cls(meta["task"], meta["requests"], meta["codes"], embeddings, meta.get("source", {}), ids=meta.get("ids"))

    @classmethod
    def fit(cls, task: str, records, embedder=None) -> "Datastore":
        """A store over records (codefusion.data.Record); the codes are kept stripped."""
        requests = [_clean(r.nl) for r in records]
        codes = [r.code.strip() for r in records]
        store = cls(task, requests, codes, np.zeros((len(codes), 1), np.float32) if codes else np.zeros((0, 1)),
                    SOURCES.get(task, {}), embedder, [r.id for r in records])
        store.embeddings = store.embed(requests) if codes else store.embeddings
        return store

    @classmethod
    def for_task(cls, task: str, data_dir=None, rebuild: bool = False, embedder=None) -> "Datastore":
        """The store of a task's train split, from the cache when it matches the data file, else built and cached."""
        from .data import load_records, resolve_data_dir, split_records
        path = resolve_data_dir(data_dir) / "codefusion" / "train" / f"{task}_train.json"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        directory = cache_root() / "neighbours" / f"{task}-{digest}"
        if not rebuild and (directory / "store.json").is_file():
            store = cls.load(directory)
            store._embedder = embedder
            store.directory = directory
            return store
        train, _ = split_records(task, load_records(task, path=path))
        return cls.fit(task, train, embedder).saved_to(directory)

    def saved_to(self, directory) -> "Datastore":
        self.save(directory)
        self.directory = Path(directory)
        return self


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m codefusion.neighbours", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the task's datastore cache from its train split")
    b.add_argument("--task", required=True, choices=sorted(SOURCES))
    b.add_argument("--data", help="data dir holding codefusion/ (default: $CODEFUSION_DATA or ../shared/data)")
    b.add_argument("--rebuild", action="store_true")
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    store = Datastore.for_task(args.task, args.data, rebuild=args.rebuild)
    print(f"{args.task}: {len(store)} pairs; {store.source.get('dataset')}; licence {store.source.get('license')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
