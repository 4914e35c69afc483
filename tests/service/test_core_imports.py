"""The service's core (settings, errors, the generator registry, the pipeline, the batch run) is free of the
HTTP layer: it imports neither Flask nor the blueprints, so the batch CLI and tools use it without them."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "cf_service"
CORE = ("settings.py", "errors.py", "generators.py", "pipeline.py", "batch.py")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names.add(("cf_service." if node.level else "") + module if module else "cf_service")
            if node.level and not module:
                names.update(f"cf_service.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("name", CORE)
def test_core_module_imports_no_http_layer(name):
    http = {m for m in imported_modules(SERVICE / name)
            if m.split(".")[0] in ("flask", "werkzeug") or m.startswith("cf_service.api")}
    assert http == set()


def test_the_check_sees_a_blueprint_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from .api.common import ApiError\nfrom . import api\n")
    assert {"cf_service.api.common", "cf_service.api"} <= imported_modules(module)
