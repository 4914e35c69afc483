"""Shared fixtures of the reliability tests: an in-process app over stand-in generators (for
input handling, which must not depend on a trained model), the real checkpoints when they
exist, and the workbook corpus."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .fakes import build_app  # noqa: F401  (re-exported for the tests)

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = REPO_ROOT / "checkpoints"


def checkpoints_ready(task: str = "cf") -> bool:
    folder = CHECKPOINTS / task
    return folder.is_dir() and any(folder.iterdir())


needs_checkpoints = pytest.mark.skipif(
    not all(checkpoints_ready(t) for t in ("cf", "bash", "python")),
    reason="needs trained checkpoints in checkpoints/{cf,bash,python}/ (not written yet)")


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
