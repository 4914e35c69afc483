"""The wheel carries what the service serves: the task pane, the manifest and the shipped models, at the
places the loaders look for them in an installed package."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# what the build needs; a copy keeps a stale build/ folder of the checkout out of the wheel
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "cf_rules", "cf_service", "codefusion", "grammar",
                "addin_manifest", "checkpoints")


def _shipped(folder: str, pattern: str) -> set[str]:
    return {p.relative_to(REPO / folder).as_posix() for p in (REPO / folder).glob(pattern) if p.is_file()}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, symlinks=False,
                            ignore=shutil.ignore_patterns("__pycache__", "last", "node_modules"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(out)], check=True, timeout=600)
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.slow
def test_wheel_holds_the_task_pane_and_the_manifest(wheel_names):
    pane = _shipped("addin_manifest", "taskpane/*")
    assert {"taskpane/index.html", "taskpane/taskpane.js", "taskpane/taskpane.css"} <= pane
    assert {f"cf_service/addin/{name}" for name in pane | {"manifest.xml"}} <= wheel_names
    assert not any(name.startswith("cf_service/addin/test/") for name in wheel_names)   # the pane's JS tests


@pytest.mark.slow
def test_wheel_holds_the_shipped_models_without_training_state(wheel_names):
    tasks = sorted(p.name for p in (REPO / "checkpoints").iterdir() if (p / "model.safetensors").is_file())
    assert {"cf", "bash", "python", "ar-cf"} <= set(tasks)
    for task in tasks:
        for name in ("config.json", "model.safetensors", "tokenizer.json"):
            assert f"codefusion/checkpoints/{task}/{name}" in wheel_names
    assert not any("/last/" in name or name.endswith((".pt", "metrics.jsonl")) for name in wheel_names)


@pytest.mark.slow
def test_wheel_holds_the_code_and_the_grammar(wheel_names):
    for package in ("cf_rules", "cf_service", "codefusion"):
        modules = {p.relative_to(REPO).as_posix() for p in (REPO / package).rglob("*.py")
                   if "__pycache__" not in p.parts}
        assert modules <= wheel_names, sorted(modules - wheel_names)[:5]
    assert "cf_rules/cf_rules.lark" in wheel_names


def test_loaders_prefer_the_installed_files_and_fall_back_to_the_checkout(tmp_path, monkeypatch):
    from cf_service import settings
    from codefusion import checkpoint

    assert settings.default_taskpane_dir() == REPO / "addin_manifest" / "taskpane"
    assert checkpoint.shipped_checkpoints() == REPO / "checkpoints"
    installed = tmp_path / "site-packages"
    (installed / "cf_service" / "addin" / "taskpane").mkdir(parents=True)
    (installed / "codefusion" / "checkpoints").mkdir(parents=True)
    monkeypatch.setattr(settings, "PACKAGE_DIR", installed / "cf_service")
    monkeypatch.setattr(checkpoint, "PACKAGE_DIR", installed / "codefusion")
    assert settings.default_taskpane_dir() == installed / "cf_service" / "addin" / "taskpane"
    assert checkpoint.shipped_checkpoints() == installed / "codefusion" / "checkpoints"
