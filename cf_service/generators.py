"""The generators, loaded once per process and shared by its threads; readiness for /healthz.

A registry holds one `codefusion.generate.Generator` per task. Loading is guarded by a lock so
two threads never load the same checkpoint twice. Generation is not serialised: requests call
the same generator from several threads at once, so a generator must keep per-call state local
(its own torch.Generator for a seed, no module-level buffers). Not serialising is what lets a
request proceed while a timed-out (504) generation it cannot stop is still finishing.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from pathlib import Path
from typing import Callable

from .errors import ApiError

log = logging.getLogger("cf_service.generators")


def _default_loader(task: str, checkpoint: str | None, **sampling):
    from codefusion.generate import load_generator   # imported late: torch is slow to import
    return load_generator(task, checkpoint=checkpoint, **sampling)


class ModelRegistry:
    """Loads and hands out generators. `loader(task, checkpoint_or_None)` builds one generator; the
    default loader reads the checkpoint with `sampling` overrides (e.g. {"restart_t": 0}, CF_RESTARTS=0)."""

    def __init__(self, tasks, *, checkpoint_root: Path | None = None,
                 loader: Callable[[str, str | None], object] | None = None, sampling: dict | None = None):
        self.tasks = tuple(tasks)
        self.checkpoint_root = Path(checkpoint_root) if checkpoint_root else None
        self._loader = loader or functools.partial(_default_loader, **(sampling or {}))
        self._load_lock = threading.Lock()
        self._generators: dict[str, object] = {}
        self._info: dict[str, dict] = {}
        self._errors: dict[str, str] = {}
        self._loading = False
        self._thread: threading.Thread | None = None

    @classmethod
    def from_generators(cls, generators: dict[str, object]) -> "ModelRegistry":
        """A registry over generators already built (tools, tests, notebooks)."""
        registry = cls(generators)
        for task, generator in generators.items():
            registry._generators[task] = generator
            registry._info[task] = _describe(generator, None, 0.0)
        return registry

    def checkpoint_for(self, task: str) -> str | None:
        return str(self.checkpoint_root / task) if self.checkpoint_root else None

    # -- loading
    def load_all(self) -> None:
        """Load every task not loaded yet; a task that fails is recorded, not raised, so the
        model-free endpoints keep working and /healthz can say what is wrong."""
        with self._load_lock:
            self._loading = True
            try:
                for task in self.tasks:
                    if task in self._generators:
                        continue
                    checkpoint = self.checkpoint_for(task)
                    started = time.perf_counter()
                    try:
                        generator = self._loader(task, checkpoint)
                    except Exception as err:  # noqa: BLE001 - any failure makes the task unavailable
                        self._errors[task] = f"{type(err).__name__}: {err}"
                        log.error("could not load the %s generator from %s: %s", task,
                                  checkpoint or "its default checkpoint", err)
                        continue
                    seconds = time.perf_counter() - started
                    self._generators[task] = generator
                    self._errors.pop(task, None)
                    self._info[task] = _describe(generator, checkpoint, seconds)
                    log.info("loaded the %s generator in %.1f s", task, seconds)
            finally:
                self._loading = False

    def start_background_load(self) -> None:
        """Start loading in a daemon thread once (CF_PRELOAD_MODELS=0)."""
        if self._thread is not None or self.ready:
            return
        with self._load_lock:
            if self._thread is None:
                self._loading = True
                self._thread = threading.Thread(target=self.load_all, name="cf-model-loader", daemon=True)
                self._thread.start()

    # -- state
    @property
    def ready(self) -> bool:
        return all(task in self._generators for task in self.tasks)

    def status(self) -> dict:
        if self.ready:
            return {"status": "ready", "models": {task: self._info[task] for task in self.tasks}}
        models = {}
        for task in self.tasks:
            if task in self._generators:
                models[task] = self._info[task]
            elif task in self._errors:
                models[task] = {"status": "failed", "error": self._errors[task]}
            else:
                models[task] = {"status": "loading" if self._loading or self._thread else "not_loaded"}
        status = "loading" if self._loading or not self._errors else "unavailable"
        return {"status": status, "models": models}

    # -- use
    def get(self, task: str):
        if task not in self.tasks:
            raise ApiError(404, "unknown_task", f"This service does not serve the {task!r} task.",
                           hint=f"Use one of {list(self.tasks)} (set CF_TASKS to serve others).")
        generator = self._generators.get(task)
        if generator is None:
            if task in self._errors:
                raise ApiError(503, "model_unavailable", f"The {task} model failed to load: {self._errors[task]}",
                               hint="Check CF_SERVICE_CHECKPOINTS and the server log, then restart.")
            raise ApiError(503, "model_loading", f"The {task} model is still loading.",
                           hint="Retry in a few seconds; GET /healthz says when it is ready.")
        return generator


def _describe(generator, checkpoint: str | None, seconds: float) -> dict:
    """What /healthz says about a loaded generator: where it came from, a version (the first 12
    hex digits of the weights' SHA-256) and its sampling settings."""
    info = {"status": "loaded", "load_seconds": round(seconds, 2)}
    folder = getattr(generator, "checkpoint_dir", None) or checkpoint
    if folder:
        info["checkpoint"] = str(folder)
        weights = Path(folder) / "model.safetensors"
        if weights.is_file():
            info["version"] = _sha256(weights)[:12]
    config = getattr(generator, "config", None)
    for name in ("sampling_steps", "max_code_len", "encoder"):
        value = getattr(config, name, None)
        if isinstance(value, (str, int, float)):
            info[name] = value
    restart_t = getattr(generator, "restart_t", None)
    if isinstance(restart_t, int):
        info["restart_t"] = restart_t                     # 0: the draws are not restarted
    return info


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
