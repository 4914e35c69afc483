"""The trained autoregressive model behind codefusion.evaluate's `System` protocol."""
from __future__ import annotations

import math

import torch

from ...data import TASKS
from ...encoders import RequestEncoder
from ...generate import default_checkpoint_dir
from ...limits import MAX_K
from ...tasks import Candidate, get_task
from ...tasks.base import TaskAdapter
from ...tokenizer import CodeTokenizer
from .checkpoint import load_ar_checkpoint
from .model import Seq2SeqTransformer


class AutoregressiveSystem:
    """A trained AR model behind the evaluator's `System` protocol. Stateless while generating
    (each call makes its own random generator), so one instance can serve concurrent requests."""

    name = "autoregressive"

    def __init__(self, model: Seq2SeqTransformer, encoder: RequestEncoder, tokenizer: CodeTokenizer,
                 task: TaskAdapter, method: str = "beam", temperature: float = 1.0, top_p: float = 1.0,
                 seed: int | None = 0):
        if method not in ("beam", "sample"):
            raise ValueError(f"decoding method must be 'beam' or 'sample', got {method!r}")
        self.model = model.eval()
        self.encoder = encoder.eval()
        self.tokenizer = tokenizer
        self.task = task
        self.method = method
        self.temperature, self.top_p, self.seed = temperature, top_p, seed

    def decode_raw(self, requests: list[str], tables=None, k: int = 5, method: str | None = None,
                   seed: int | None = None) -> list[list[tuple[str, float]]]:
        """Per request, the k decoded codes with their scores as the model gives them (placeholders
        left in, no postprocessing), best first for beam search."""
        method = method or self.method
        if not 1 <= int(k) <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        if method not in ("beam", "sample"):
            raise ValueError(f"decoding method must be 'beam' or 'sample', got {method!r}")
        tables = tables if tables is not None else [None] * len(requests)
        if len(tables) != len(requests):
            raise ValueError(f"{len(requests)} requests but {len(tables)} tables")
        for request in requests:
            if not isinstance(request, str) or not request.strip():
                raise ValueError("every request must be a non-empty string")
        sources = [self.task.source_text(r, t) for r, t in zip(requests, tables)]
        with torch.inference_mode():
            states, mask = self.encoder(sources)
            if method == "beam":
                out = self.model.beam_search(states, mask, k=int(k))
            else:
                g = torch.Generator()
                seed = self.seed if seed is None else seed
                if seed is None:
                    g.seed()
                else:
                    g.manual_seed(int(seed))
                out = self.model.sample(states, mask, k=int(k), generator=g,
                                        temperature=self.temperature, top_p=self.top_p)
        return [[(self.tokenizer.decode(ids), float(s)) for ids, s in zip(out.ids[b], out.scores[b])
                 if s > -math.inf] for b in range(len(requests))]

    def generate_batch(self, requests: list[str], tables=None, k: int = 5, method: str | None = None,
                       seed: int | None = None) -> list[list[Candidate]]:
        tables = tables if tables is not None else [None] * len(requests)
        raw = self.decode_raw(requests, tables, k, method, seed)
        return [self.task.postprocess([c for c, _ in codes], [s for _, s in codes], request, table, k=int(k))[:int(k)]
                for codes, request, table in zip(raw, requests, tables)]

    def generate(self, request: str, table=None, k: int = 5, method: str | None = None,
                 seed: int | None = None) -> list[Candidate]:
        """Up to k candidates, best first, postprocessed by the task adapter (for cf: every code parses)."""
        return self.generate_batch([request], [table], k, method, seed)[0]


def load_system(task: str, checkpoint=None, method: str = "beam", **decoding) -> AutoregressiveSystem:
    """The AR system of a checkpoint dir (default <repo>/checkpoints/ar-<task>, or $CODEFUSION_CHECKPOINTS/ar-<task>)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    ck = load_ar_checkpoint(checkpoint or default_checkpoint_dir(f"ar-{task}"))
    if ck.task and ck.task != task:
        raise ValueError(f"autoregressive checkpoint {ck.directory} was trained for task {ck.task!r}, not {task!r}")
    return AutoregressiveSystem(ck.model, ck.encoder, ck.tokenizer, get_task(task), method, **decoding)

