"""Shared fixtures of the reliability tests: an in-process app over stand-in generators (for
input handling, which must not depend on a trained model), the real checkpoints when they
exist, and the workbook corpus."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .fakes import build_app  # noqa: F401  (re-exported for the tests)

REPO_ROOT = Path(__file__).resolve().parents[2]
# the shipped checkpoints; CF_RELIABILITY_CHECKPOINTS points the real-model tests elsewhere (e.g. tiny ones)
CHECKPOINTS = Path(os.environ.get("CF_RELIABILITY_CHECKPOINTS") or REPO_ROOT / "checkpoints")


def checkpoints_ready(task: str = "cf") -> bool:
    # a folder being trained into already holds tokenizer.json; a usable one has the weights too
    folder = CHECKPOINTS / task
    return all((folder / name).is_file() for name in ("model.safetensors", "config.json", "tokenizer.json"))


needs_checkpoints = pytest.mark.skipif(
    not all(checkpoints_ready(t) for t in ("cf", "bash", "python")),
    reason=f"needs trained checkpoints in {CHECKPOINTS}/{{cf,bash,python}}/ (not there yet)")


@pytest.fixture(scope="module")
def app():
    return build_app()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """{name: Path} of the workbook corpus; LibreOffice pieces only where soffice exists,
    required when CF_REQUIRE_LIBREOFFICE=1."""
    from .corpus import build_corpus, soffice_path

    if os.environ.get("CF_REQUIRE_LIBREOFFICE") == "1" and soffice_path() is None:
        pytest.fail("CF_REQUIRE_LIBREOFFICE=1 but soffice is not on PATH; install libreoffice-calc")
    return build_corpus(tmp_path_factory.mktemp("corpus"))
