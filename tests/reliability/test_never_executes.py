"""Generated Bash and Python are text: the service never runs them, nor anything else.

Two proofs:
* dynamic: during generate/stream calls with malicious-looking requests (and generators that
  answer with malicious-looking code), every way Python has to start a process or run code
  (subprocess, os.system/popen/exec*/spawn*/posix_spawn, pty, builtins exec/eval) is replaced by
  a trap that records and raises; no trap fires and the code comes back verbatim as text;
* static: the package source (cf_service/, codefusion/) is parsed and every call of those
  functions is listed; only the allow-list below may have any.
"""
from __future__ import annotations

import ast
import builtins
import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import CHECKPOINTS, REPO_ROOT, build_app, needs_checkpoints
from .fakes import DANGEROUS_CODE

MALICIOUS_REQUESTS = [
    "rm -rf / --no-preserve-root",
    "delete every file in my home directory with rm -rf ~",
    "run os.system('curl http://127.0.0.1:9/x | sh') and print the result",
    "$(reboot)`shutdown -h now`; echo done",
    "__import__('os').system('id')",
    '=SYSTEM("rm -rf /")',
]

# Process-starting and code-running functions: module -> names.
SPAWNERS = {
    "os": ["system", "popen", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp", "execlpe",
           "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe",
           "posix_spawn", "posix_spawnp", "fork", "forkpty"],
    "subprocess": ["Popen", "run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"],
    "pty": ["spawn", "fork"],
}
CODE_RUNNERS = ["exec", "eval"]

# (file relative to the repo, finding without its line number) -> why it is harmless.
ALLOWED: dict[tuple[str, str], str] = {}


class Trapped(AssertionError):
    pass


def install_traps(monkeypatch) -> list[str]:
    """Replace every spawner and code runner by a trap that records and raises; returns the
    list the traps record into."""
    import pty

    attempts: list[str] = []

    def trap(label):
        def refuse(*args, **kwargs):
            attempts.append(f"{label}{args[:2]!r}")
            raise Trapped(f"{label} was called during generation: {args[:2]!r}")
        return refuse

    for module, names in SPAWNERS.items():
        target = {"os": os, "subprocess": subprocess, "pty": pty}[module]
        for name in names:
            if hasattr(target, name):
                monkeypatch.setattr(target, name, trap(f"{module}.{name}"))
    for name in CODE_RUNNERS:
        monkeypatch.setattr(builtins, name, trap(f"builtins.{name}"))
    return attempts


def _exercise(client, task: str, request_text: str) -> list[str]:
    """Every generation entry point of one task; returns the code strings handed back."""
    codes = []
    body = {"request": request_text, "k": 3}
    if task == "cf":
        body["table"] = [["Name", "Value"], ["a", 1], ["b", 900]]
    response = client.post(f"/v1/{task}/generate", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    codes += [c.get("code") or c.get("rule") for c in response.get_json()["candidates"]]
    stream = client.get(f"/v1/{task}/stream", query_string={"request": request_text, "k": 2, "steps": 3})
    assert stream.status_code == 200
    text = stream.get_data(as_text=True)
    assert "event: result" in text and "event: error" not in text, text[-800:]
    return codes


def _warm_up(client):
    """Import and initialise everything once before the traps (lazy imports may define classes
    with exec, which is not running generated code)."""
    for task in ("cf", "bash", "python"):
        _exercise(client, task, "warm up")


@pytest.fixture(scope="module")
def stand_in_app():
    return build_app()


@pytest.mark.parametrize("request_text", MALICIOUS_REQUESTS)
def test_generation_never_starts_a_process_or_runs_code(stand_in_app, request_text, monkeypatch):
    client = stand_in_app.test_client()
    _warm_up(client)
    attempts = install_traps(monkeypatch)
    returned = {}
    for task in ("bash", "python", "cf"):
        returned[task] = _exercise(client, task, request_text)
    monkeypatch.undo()
    assert attempts == [], attempts
    # the dangerous code came back as text, unchanged
    for task in ("bash", "python"):
        assert set(returned[task]) <= set(DANGEROUS_CODE[task]), returned[task]
        assert returned[task], task
    assert not Path("/tmp/cf_service_pwned").exists()


@pytest.mark.slow
@needs_checkpoints
def test_real_models_never_start_a_process_or_run_code(monkeypatch):
    """The same with the trained generators (which load tokenizers and encoders of their own)."""
    from cf_service.app import Settings, create_app

    app = create_app(Settings.from_env({"CF_SERVICE_CHECKPOINTS": str(CHECKPOINTS)}))
    app.testing = False
    client = app.test_client()
    _warm_up(client)
    attempts = install_traps(monkeypatch)
    for request_text in MALICIOUS_REQUESTS[:3]:
        for task in ("bash", "python", "cf"):
            _exercise(client, task, request_text)
    monkeypatch.undo()
    assert attempts == [], attempts


# ---------------------------------------------------------------- static scan


def _calls_in(path: Path) -> list[str]:
    """'line: what' for each import of a spawning module and each call of a spawner/code runner."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    spawn_modules = set(SPAWNERS) - {"os"} | {"commands", "popen2", "runpy"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in spawn_modules:
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            names = {a.name for a in node.names}
            if root in spawn_modules or (root == "os" and names & set(SPAWNERS["os"])):
                found.append(f"{node.lineno}: from {node.module} import {sorted(names)}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in CODE_RUNNERS + ["__import__", "compile"]:
                if func.id == "compile" and _is_ast_only_compile(node):
                    continue
                found.append(f"{node.lineno}: {func.id}(...)")
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                module = func.value.id
                if module in SPAWNERS and func.attr in SPAWNERS[module]:
                    found.append(f"{node.lineno}: {module}.{func.attr}(...)")
                if module == "importlib" and func.attr == "import_module" and not _literal_args(node):
                    found.append(f"{node.lineno}: importlib.import_module(<computed name>)")
    return found


def _is_ast_only_compile(node: ast.Call) -> bool:
    return any(isinstance(k.value, ast.Attribute) and k.value.attr == "PyCF_ONLY_AST" for k in node.keywords)


def _literal_args(node: ast.Call) -> bool:
    return all(isinstance(a, ast.Constant) for a in node.args)


def package_files():
    for package in ("cf_service", "codefusion"):
        yield from sorted((REPO_ROOT / package).rglob("*.py"))


def test_package_source_has_no_process_or_code_execution_outside_the_allow_list():
    offenders = {}
    for path in package_files():
        rel = path.relative_to(REPO_ROOT).as_posix()
        found = [f for f in _calls_in(path) if (rel, f.split(": ", 1)[1]) not in ALLOWED]
        if found:
            offenders[rel] = found
    assert not offenders, "process/code execution outside the allow-list:\n" + json.dumps(offenders, indent=2)


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """The scanner is not blind: a file with each forbidden form is reported line by line."""
    sample = tmp_path / "sample.py"
    sample.write_text("import subprocess\nfrom os import system\nimport os\nos.popen('x')\n"
                      "eval('1')\nexec('x=1')\n__import__('os')\nsubprocess.run(['ls'])\n"
                      "model.eval()\nre.compile('x')\n")
    found = _calls_in(sample)
    assert [f.split(":")[0] for f in found] == ["1", "2", "4", "5", "6", "7", "8"], found


def test_allow_list_entries_still_exist():
    for rel, finding in ALLOWED:
        path = REPO_ROOT / rel
        assert path.exists(), f"{rel} is allow-listed but gone; remove it from ALLOWED"
        assert finding in [f.split(": ", 1)[1] for f in _calls_in(path)], f"{rel} no longer has {finding}"
