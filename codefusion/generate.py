"""Generate code from a request with a trained CodeFusion checkpoint.

    from codefusion.generate import load_generator
    gen = load_generator("bash")                      # <repo>/checkpoints/bash, or $CODEFUSION_CHECKPOINTS/bash
    gen.generate("list all files", k=5)             # -> [Candidate(code, score), ...] best first, deduplicated
    for frame in gen.stream("list all files"):      # {"step", "t", "codes"} per step of the display trajectory
        ...

    python -m codefusion.generate --task bash "list all files" [-k 5] [--table FILE] [--steps N] [--seed S]
        [--checkpoint DIR] [--show-steps 0,5,10]

A Generator holds no mutable state while generating: each call builds its own random generator and runs
under torch.inference_mode, so one instance can serve concurrent Flask requests. Without a seed a call uses
DEFAULT_SEED: the same request, table and k give the same candidates on every path (generate, stream, batch).
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path

import torch

from .checkpoint import load_checkpoint, shipped_checkpoints
from .data import TASKS
from .limits import DISPLAY_STEPS, MAX_DISPLAY_STEPS, MAX_K, MAX_STEPS
from .sampling import display_trajectory, initial_noise
from .tasks import Candidate, get_task

__all__ = ["Candidate", "Generator", "load_generator", "default_checkpoint_dir"]

DEFAULT_SEED = 0          # the seed of a call that passes none: answers repeat unless the caller asks otherwise



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
        return torch.Generator().manual_seed(DEFAULT_SEED if seed is None else int(seed))

    @torch.inference_mode()
    def _sample(self, request, table, k, steps, seed, trajectory: bool, should_stop=None):
        self._check(request, k, steps)
        source = self.task.source_text(request, table)
        states, mask = self.encoder([source])
        return self.model.sample(states, mask, k=int(k) * self.oversample, steps=steps, generator=self._rng(seed),
                                 eta=self.eta, projection=self.projection, return_trajectory=trajectory,
                                 alternatives=self.alternatives, restart_t=self.restart_t,
                                 restarts=self.restarts, should_stop=should_stop)

    def generate(self, request: str, table=None, k: int = 5, steps: int | None = None, seed: int | None = None,
                 should_stop=None):
        """Up to k candidates, best first (by mean token log-prob), deduplicated by the task adapter.
        `should_stop()`, asked between sampling steps, ends the call early (sampling.SamplingStopped)."""
        out = self._sample(request, table, k, steps, seed, trajectory=False, should_stop=should_stop)
        return self._candidates(out, request, table, k)

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

    @torch.inference_mode()
    def display(self, request: str, answer: list[str], table=None, k: int = 5, seed: int | None = None,
                display_steps: int = DISPLAY_STEPS, should_stop=None):
        """The denoising view of an answer: yield {"step", "t", "codes"} for the noise draws ("noise": True)
        and after each of `display_steps` DDIM steps (computed one step at a time), one code per entry of
        `answer` (the candidates as shown to the user, literals filled in), and a last frame {"final": True}
        whose codes are exactly `answer`.

        Line i follows the noise draw of `generate(request, table, k, seed)` whose one-step reading is nearest
        to answer[i] (so its chain ends on that candidate or on the model reading the service then checked,
        ranked or bound to a column); every frame before the last is what the model's latent spells at that
        step (sampling.display_trajectory), with the request's literals filled in. The last frame differs
        from the one before it only where the service's ranking changed the model's reading."""
        self._check(request, k, None)
        if not 1 <= int(display_steps) <= MAX_DISPLAY_STEPS:
            raise ValueError(f"display_steps must be between 1 and {MAX_DISPLAY_STEPS}, got {display_steps}")
        answer = list(answer)
        if not answer:
            return
        states, mask = self._display_inputs(request, table)
        noise = initial_noise(self.model, int(k) * self.oversample, self._rng(seed), states.device)
        first = next(display_trajectory(self.model, states, mask, noise, 1, self.projection))[1]
        readings = self.task.display_codes(self.tokenizer.decode_batch(first), request, table)
        chosen = noise[nearest_draws(answer, readings)]
        step = -1
        for step, (t, ids) in enumerate(display_trajectory(self.model, states, mask, chosen, int(display_steps),
                                                           self.projection, should_stop=should_stop)):
            codes = self.task.display_codes(self.tokenizer.decode_batch(ids), request, table)
            frame = {"step": step, "t": max(int(t), 0), "codes": codes}
            if step == 0 and t >= 0 and int(display_steps) > 1:
                frame["noise"] = True          # x_T as drawn: no model step yet
            yield frame
        yield {"step": step + 1, "t": 0, "codes": answer, "final": True}

    def _display_inputs(self, request, table):
        """Encoder states and mask of the request, as `_sample` computes them."""
        return self.encoder([self.task.source_text(request, table)])

    def stream(self, request: str, table=None, k: int = 5, steps: int | None = None, seed: int | None = None,
               display_steps: int = DISPLAY_STEPS):
        """`generate`, then its `display`: the frames of the display trajectory, the last one carrying
        "candidates" (what `generate` returns, from the same draws)."""
        candidates = self.generate(request, table, k, steps, seed)
        frames = list(self.display(request, [c.code for c in candidates], table, k, seed, display_steps))
        for frame in frames[:-1]:
            yield frame
        yield dict(frames[-1], candidates=candidates) if frames else \
            {"step": 0, "t": 0, "codes": [], "final": True, "candidates": candidates}


def nearest_draws(answer: list[str], readings: list[str]) -> list[int]:
    """For each answer line, the index of the draw whose reading is most alike (difflib's ratio), a draw
    serving at most one line while unused ones are left."""
    used: set[int] = set()
    picked = []
    for line in answer:
        free = [i for i in range(len(readings)) if i not in used] or list(range(len(readings)))
        best = max(free, key=lambda i: (difflib.SequenceMatcher(None, line, readings[i]).ratio(), -i))
        used.add(best)
        picked.append(best)
    return picked


def load_generator(task: str, checkpoint=None, **sampling) -> Generator:
    """`sampling`: eta / oversample overrides (see Generator)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    adapter = get_task(task)   # a task may serve through its own Generator subclass (bash/python: retrieval_augmented)
    cls = adapter.generator_class() if hasattr(adapter, "generator_class") else Generator
    return cls(checkpoint or default_checkpoint_dir(task), task, **sampling)


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
    p.add_argument("--show-steps", help="comma-separated display-trajectory steps to print, e.g. 0,5,10")
    p.add_argument("--display-steps", type=int, default=DISPLAY_STEPS, help="steps of the display trajectory")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        gen = load_generator(args.task, args.checkpoint)
        table = _read_table(args.table) if args.table else None
        candidates = gen.generate(args.request, table, args.k, args.steps, args.seed)
        if args.show_steps:
            wanted = {int(s) for s in args.show_steps.split(",") if s.strip()}
            for frame in gen.display(args.request, [c.code for c in candidates], table, args.k, args.seed,
                                     args.display_steps):
                if frame["step"] in wanted and not frame.get("final"):
                    print(f"--- step {frame['step']} (t={frame['t']})")
                    for code in frame["codes"]:
                        print(f"    {code!r}")
            print("--- final")
        for i, cand in enumerate(candidates, 1):
            print(f"{i}. [{cand.score:.3f}] {cand.code}")
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
