"""Generate code from a request with a trained CodeFusion checkpoint.

    from codefusion.generate import load_generator
    gen = load_generator("bash")                      # <repo>/checkpoints/bash, or $CODEFUSION_CHECKPOINTS/bash
    gen.generate("list all files", k=5)             # -> [Candidate(code, score), ...] best first, deduplicated
    for frame in gen.stream("list all files"):      # {"step", "t", "codes"} per sampling step
        ...

    python -m codefusion.generate --task bash "list all files" [-k 5] [--table FILE] [--steps N] [--seed S]
        [--checkpoint DIR] [--show-steps 0,5,10]

A Generator holds no mutable state while generating: each call builds its own random generator and runs
under torch.inference_mode, so one instance can serve concurrent Flask requests.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

from .checkpoint import load_checkpoint, shipped_checkpoints
from .data import TASKS
from .limits import MAX_K, MAX_STEPS
from .tasks import Candidate, get_task

__all__ = ["Candidate", "Generator", "load_generator", "default_checkpoint_dir"]



def default_checkpoint_dir(task: str) -> Path:
    root = os.environ.get("CODEFUSION_CHECKPOINTS")
    return (Path(root) if root else shipped_checkpoints()) / task


class Generator:
    """Sampling settings: `eta` > 0 makes each DDIM step stochastic, and `oversample` draws
    k * oversample noise samples of which the task adapter keeps the k best distinct ones; both buy
    diversity among the k candidates, and so do `alternatives`: runner-up swap variants of each sample's
    tokens (model.swap_variants). `projection` overrides the model's x0_projection (model.py). Defaults come from the checkpoint's config.json "sampling"
    section if it has one, else eta 0 and the model config's sampling_oversample."""

    def __init__(self, checkpoint_dir, task: str | None = None, eta: float | None = None,
                 oversample: int | None = None, projection: str | None = None, alternatives: int | None = None,
                 restart_t: int | None = None, restarts: int | None = None):
        ck = load_checkpoint(checkpoint_dir)
        sampling = ck.meta.get("sampling", {})
        self.eta = float(sampling.get("eta", 0.0) if eta is None else eta)
        self.oversample = int(sampling.get("oversample", getattr(ck.model_cfg, "sampling_oversample", 1))
                              if oversample is None else oversample)
        self.projection = projection or sampling.get("projection") or None   # None: the model config's x0_projection
        self.alternatives = int(sampling.get("alternatives", getattr(ck.model_cfg, "sampling_alternatives", 0))
                                if alternatives is None else alternatives)
        self.restart_t = int(sampling.get("restart_t", getattr(ck.model_cfg, "sampling_restart_t", 0))
                             if restart_t is None else restart_t)
        self.restarts = int(sampling.get("restarts", getattr(ck.model_cfg, "sampling_restarts", 1))
                            if restarts is None else restarts)
        if not 0 <= self.restart_t < ck.model_cfg.diffusion_steps or self.restarts < 1:
            raise ValueError(f"restart_t must be between 0 (off) and {ck.model_cfg.diffusion_steps - 1} and "
                             f"restarts >= 1, got restart_t={self.restart_t}, restarts={self.restarts}")
        if self.eta < 0 or self.oversample < 1 or not 0 <= self.alternatives <= ck.model_cfg.max_code_len:
            raise ValueError(f"eta must be >= 0, oversample >= 1 and alternatives 0..max_code_len "
                             f"({ck.model_cfg.max_code_len}), got eta={self.eta}, "
                             f"oversample={self.oversample}, alternatives={self.alternatives}")
        self.checkpoint_dir = Path(checkpoint_dir)
        self.task_name = task or ck.task
        if task and ck.task and task != ck.task:
            raise ValueError(f"checkpoint {checkpoint_dir} was trained for task {ck.task!r}, not {task!r}")
        self.task = get_task(self.task_name)
        self.model = ck.model.eval()
        self.encoder = ck.encoder.eval()
        self.tokenizer = ck.tokenizer
        self.config = ck.model_cfg

    def _check(self, request, k, steps):
        if not isinstance(request, str) or not request.strip():
            raise ValueError("request must be a non-empty string")
        if not (1 <= int(k) <= MAX_K):
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        if steps is not None and not (1 <= int(steps) <= MAX_STEPS):
            raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {steps}")

    def _rng(self, seed):
        g = torch.Generator()
        if seed is None:
            g.seed()
        else:
            g.manual_seed(int(seed))
        return g

    @torch.inference_mode()
    def _sample(self, request, table, k, steps, seed, trajectory: bool):
        self._check(request, k, steps)
        source = self.task.source_text(request, table)
        states, mask = self.encoder([source])
        return self.model.sample(states, mask, k=int(k) * self.oversample, steps=steps, generator=self._rng(seed),
                                 eta=self.eta, projection=self.projection, return_trajectory=trajectory,
                                 alternatives=self.alternatives, restart_t=self.restart_t,
                                 restarts=self.restarts)

    def generate(self, request: str, table=None, k: int = 5, steps: int | None = None, seed: int | None = None):
        """Up to k candidates, best first (by mean token log-prob), deduplicated by the task adapter."""
        return self._candidates(self._sample(request, table, k, steps, seed, trajectory=False), request, table, k)

    def _candidates(self, out, request, table, k):
        codes = self.tokenizer.decode_batch(out.ids[0])
        codes, scores, drawn = self._one_vote_per_variant(codes, out.scores[0].tolist())
        return self.task.postprocess(codes, scores, request, table, drawn=drawn, k=int(k))[:int(k)]

    def _one_vote_per_variant(self, codes: list[str], scores: list[float]):
        """Every noise draw votes for its decoded code (agreeing draws rank higher, see the task's ranking);
        swap variants only offer other readings: each distinct variant is kept once, adds no vote, and is
        flagged (drawn False) so that it ranks after the sampled codes."""
        if not self.alternatives:
            return codes, scores, [True] * len(codes)
        group = 1 + self.alternatives
        kept_codes, kept_scores, drawn = [], [], []
        offered = {code for i, code in enumerate(codes) if i % group == 0}
        for i, (code, score) in enumerate(zip(codes, scores)):
            if i % group:
                if code in offered:
                    continue
                offered.add(code)
            kept_codes.append(code)
            kept_scores.append(score)
            drawn.append(i % group == 0)
        return kept_codes, kept_scores, drawn

    def stream(self, request: str, table=None, k: int = 5, steps: int | None = None, seed: int | None = None):
        """Yield {"step", "t", "codes"} for each sampling step: the code decoded from that step's estimate;
        with restarts, a last frame {"step", "t": restart_t, "codes", "restart": True} shows the restarted draws.
        The last frame also carries "candidates", what `generate` with the same seed returns, from the same
        draws, so the caller need not sample again. (The whole trajectory is computed first; frames are
        then yielded in order.)"""
        out = self._sample(request, table, k, steps, seed, trajectory=True)
        last = len(out.trajectory) - 1
        for i, (t, ids) in enumerate(zip(out.timesteps, out.trajectory)):
            codes = self.tokenizer.decode_batch(ids[0][:int(k)])   # the first k draws; oversampled ones stay hidden
            frame = {"step": i, "t": int(t), "codes": self.task.display_codes(codes, request, table)}
            if self.restart_t and i == last:   # model.sample's last frame is then the restart, not a step
                frame["restart"] = True
            if i == last:
                frame["candidates"] = self._candidates(out, request, table, k)
            yield frame


def load_generator(task: str, checkpoint=None, **sampling) -> Generator:
    """`sampling`: eta / oversample overrides (see Generator)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    return Generator(checkpoint or default_checkpoint_dir(task), task, **sampling)


def _read_table(path):
    """A table file: JSON rows ([[header...], [row...]]) or CSV."""
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith(".json"):
        return json.loads(text)
    import csv
    return [row for row in csv.reader(text.splitlines())]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m codefusion.generate", description="Generate code with CodeFusion.")
    p.add_argument("request")
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--table", help="table file (.json rows or .csv), for cf")
    p.add_argument("--steps", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--checkpoint")
    p.add_argument("--show-steps", help="comma-separated sampling step indices to print, e.g. 0,5,10")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        gen = load_generator(args.task, args.checkpoint)
        table = _read_table(args.table) if args.table else None
        # one seed for both passes, so the shown steps lead to the printed candidates
        seed = args.seed if args.seed is not None else int(torch.randint(0, 2 ** 31 - 1, ()).item())
        if args.show_steps:
            wanted = {int(s) for s in args.show_steps.split(",") if s.strip()}
            for frame in gen.stream(args.request, table, args.k, args.steps, seed):
                if frame["step"] in wanted:
                    print(f"--- step {frame['step']} (t={frame['t']})")
                    for code in frame["codes"]:
                        print(f"    {code}")
            print("--- final")
        for i, cand in enumerate(gen.generate(args.request, table, args.k, args.steps, seed), 1):
            print(f"{i}. [{cand.score:.3f}] {cand.code}")
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
