"""The service's settings, read from CF_* environment variables by `Settings.from_env()`.

A bad value fails at start-up with a message that names the variable and the range it takes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from codefusion.data import TASKS
from codefusion.limits import MAX_K

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def default_taskpane_dir() -> Path:
    """The task pane: cf_service/addin/taskpane/ in an installed wheel (setup.py puts the add-in there),
    <repo>/addin_manifest/taskpane/ in a checkout. The manifest is the folder's sibling manifest.xml."""
    installed = PACKAGE_DIR / "addin" / "taskpane"
    return installed if installed.is_dir() else REPO_ROOT / "addin_manifest" / "taskpane"


def _env_int(env, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer; set it to a whole number in {low}..{high}") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range; set it to a whole number in {low}..{high}")
    return value


def _env_float(env, name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; set it to a number in {low}..{high}") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range; set it to a number in {low}..{high}")
    return value


def _env_bool(env, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


@dataclass(frozen=True)
class Settings:
    """Service settings; `Settings.from_env()` reads them from CF_* environment variables."""
    checkpoints: Path | None = None      # CF_SERVICE_CHECKPOINTS: folder holding cf/, bash/, python/
    tasks: tuple[str, ...] = TASKS       # CF_TASKS: which generators to load, comma separated
    max_k: int = 10                      # CF_MAX_K: largest k a caller may ask for
    max_table_cells: int = 20_000        # CF_MAX_TABLE_CELLS: largest table (header included)
    max_upload_mb: float = 20.0          # CF_MAX_UPLOAD_MB: largest request body / workbook upload
    request_timeout_s: float = 60.0      # CF_REQUEST_TIMEOUT_S: generation budget before a 504
    preload_models: bool = True          # CF_PRELOAD_MODELS: load in create_app (else in the background)
    max_batch_requests: int = 200        # CF_MAX_BATCH_REQUESTS: requests in one /v1/cf/batch upload
    log_level: str = "INFO"              # CF_LOG_LEVEL
    restarts: int | None = None          # CF_RESTARTS: restarts per draw, 0 = off (unset: the checkpoint's; cf: 1)
    taskpane_dir: Path = field(default_factory=default_taskpane_dir)   # CF_TASKPANE_DIR

    @classmethod
    def from_env(cls, env=None) -> "Settings":
        env = os.environ if env is None else env
        checkpoints = env.get("CF_SERVICE_CHECKPOINTS") or None
        tasks = tuple(t.strip() for t in env.get("CF_TASKS", ",".join(TASKS)).split(",") if t.strip())
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"CF_TASKS names unknown task(s) {unknown}; choose from {list(TASKS)}")
        level = env.get("CF_LOG_LEVEL", "INFO").upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"CF_LOG_LEVEL={level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return cls(
            checkpoints=Path(checkpoints) if checkpoints else None,
            tasks=tasks,
            max_k=_env_int(env, "CF_MAX_K", cls.max_k, 1, MAX_K),
            max_table_cells=_env_int(env, "CF_MAX_TABLE_CELLS", cls.max_table_cells, 1, 10_000_000),
            max_upload_mb=_env_float(env, "CF_MAX_UPLOAD_MB", cls.max_upload_mb, 0.001, 1024),
            request_timeout_s=_env_float(env, "CF_REQUEST_TIMEOUT_S", cls.request_timeout_s, 0.01, 3600),
            preload_models=_env_bool(env, "CF_PRELOAD_MODELS", cls.preload_models),
            max_batch_requests=_env_int(env, "CF_MAX_BATCH_REQUESTS", cls.max_batch_requests, 1, 100_000),
            log_level=level,
            restarts=_env_int(env, "CF_RESTARTS", cls.restarts, 0, 4),
            taskpane_dir=Path(env.get("CF_TASKPANE_DIR") or default_taskpane_dir()),
        )

    def sampling_overrides(self) -> dict:
        """CF_RESTARTS as generator overrides: unset keeps the checkpoint's sampling, 0 turns restarts off
        (faster, fewer distinct candidates), N restarts each draw N times where the model restarts at all."""
        if self.restarts is None:
            return {}
        return {"restart_t": 0} if self.restarts == 0 else {"restarts": self.restarts}
