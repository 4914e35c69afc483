"""A code-only Python pretraining corpus taken from the standard library's own source.

CodeFusion pretrains the decoder on code alone. The paper's Python snippets file is not
available, so we build a stand-in from code that every Python installation ships: the standard
library (`sysconfig.get_paths()["stdlib"]`). How it is built:

1. Walk the stdlib's `.py` files in sorted order, skipping test suites (`test/`, `tests/`,
   `idle_test/`, `test_*.py`), GUI/demo/data/bundled-package folders (`SKIP_DIRS`: idlelib,
   lib2to3, turtledemo, tkinter, ensurepip, venv, pydoc_data, encodings, site-packages, ...)
   and `__main__.py` files. Files that do not parse are skipped.
2. In every function body (nested blocks included) keep the one-line statements that look like
   CoNaLa snippets: assignments, augmented assignments, bare calls, and the expression of a
   `return`. The snippet is the statement's exact source text (as `ast.get_source_segment` gives it).
3. Keep a snippet when it fits on one line, is 8-100 characters, parses on its own, and is
   self-contained enough to read in isolation: no `self`/`cls`/`super()`, no private names
   (`_x`, `obj._y`), no `yield`/`await`.
4. Drop exact duplicates, keeping the first occurrence in walk order.

The result is deterministic for a given Python version (the stdlib source is fixed per release):
`python -m codefusion.python_corpus --stats` prints the version it was built with, and the cache
file name (under `~/.cache/codefusion`, never in the repository) contains it, so corpora from
different Pythons never mix. `max_snippets` takes a seeded random sample, kept in walk order.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import sys
import sysconfig
import warnings
from pathlib import Path

CORPUS_VERSION = 1  # bump when the extraction rules change, so old caches are not reused
MIN_CHARS, MAX_CHARS = 8, 100
SKIP_DIRS = {"test", "tests", "idle_test", "idlelib", "lib2to3", "turtledemo", "ensurepip",
             "site-packages", "dist-packages", "__pycache__", "tkinter", "venv", "pydoc_data",
             "config-3", "encodings"}
_NOT_SELF_CONTAINED = {"self", "cls"}


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def python_version() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "codefusion"
    return base / f"python_corpus-v{CORPUS_VERSION}-py{python_version()}.txt"


def _source_files(root: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("config-"))
        for name in sorted(filenames):
            if name.endswith(".py") and not name.startswith("test_") and name != "__main__.py":
                files.append(Path(dirpath) / name)
    return sorted(files)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line ends the tokenizer counts (not \f or \v)


def _one_line_segment(lines: list[str], node: ast.AST) -> str | None:
    """The source text of a node that sits on one line; None when it spans lines.

    ast.get_source_segment does the same but re-splits the whole file on every call, which makes
    a stdlib walk take minutes; column offsets are UTF-8 byte offsets, hence the encode."""
    if node.lineno != node.end_lineno:
        return None
    line = lines[node.lineno - 1].encode("utf-8")
    return line[node.col_offset:node.end_col_offset].decode("utf-8")


def _statement_snippet(stmt: ast.stmt, lines: list[str]) -> str | None:
    """The snippet text for one statement, or None when the statement is not snippet-like."""
    if isinstance(stmt, (ast.Assign, ast.AugAssign)):
        node = stmt
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        node = stmt
    elif isinstance(stmt, ast.Return) and stmt.value is not None and not isinstance(stmt.value, ast.Name):
        node = stmt.value
    else:
        return None
    return _one_line_segment(lines, node)


def _acceptable(snippet: str | None) -> bool:
    if snippet is None or "\n" in snippet:
        return False
    if not MIN_CHARS <= len(snippet) <= MAX_CHARS:
        return False
    try:
        tree = ast.parse(snippet)
    except SyntaxError:   # e.g. a return value that only parses inside its parentheses
        return False
    for node in ast.walk(tree):
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await)):
            return False
        if isinstance(node, ast.Name) and (node.id in _NOT_SELF_CONTAINED or node.id.startswith("_")
                                           or node.id == "super"):
            return False
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            return False
    return True


def _function_statements(tree: ast.AST):
    """Every statement inside a function body, nested blocks included, in source order."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack = list(reversed(node.body))
            while stack:
                stmt = stack.pop()
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue  # visited as a function of its own by ast.walk
                yield stmt
                children = []
                for field in ("body", "orelse", "finalbody"):
                    children.extend(getattr(stmt, field, []) or [])
                for handler in getattr(stmt, "handlers", []) or []:
                    children.extend(handler.body)
                stack.extend(reversed(children))


def snippets_from_source(source: str) -> list[str]:
    """The snippet-like one-line statements of one module's source (duplicates kept)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences etc. in old modules
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return []
    lines = _LINE_BREAK.split(source)
    snippets = [_statement_snippet(stmt, lines) for stmt in _function_statements(tree)]
    return [s for s in snippets if _acceptable(s)]


def _extract(root: Path) -> tuple[list[str], dict]:
    seen: set[str] = set()
    corpus: list[str] = []
    files = _source_files(root)
    n_read = 0
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        n_read += 1
        for snippet in snippets_from_source(source):
            if snippet not in seen:
                seen.add(snippet)
                corpus.append(snippet)
    stats = {"python": python_version(), "root": str(root), "files": len(files), "files_read": n_read,
             "snippets": len(corpus), "corpus_version": CORPUS_VERSION}
    return corpus, stats


def build_python_corpus(max_snippets: int | None = None, seed: int = 0, *, root: str | Path | None = None,
                        use_cache: bool = True) -> list[str]:
    """One-line Python snippets from the stdlib (or `root`), deduplicated, in walk order.

    With `max_snippets` a random sample of that size (seeded, so repeatable) is returned in walk
    order. The full stdlib corpus is cached under ~/.cache/codefusion per Python version;
    a custom `root` is never cached.
    """
    if max_snippets is not None and max_snippets < 0:
        raise ValueError(f"max_snippets must be >= 0 or None, got {max_snippets}")
    corpus = None
    cache = cache_path() if use_cache and root is None else None
    if cache is not None and cache.exists():
        corpus = cache.read_text(encoding="utf-8").split("\n")
        corpus = [line for line in corpus if line]
    if corpus is None:
        corpus, stats = _extract(Path(root) if root is not None else stdlib_dir())
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text("\n".join(corpus) + "\n", encoding="utf-8")
            tmp.replace(cache)
            cache.with_suffix(".json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    if max_snippets is not None and max_snippets < len(corpus):
        keep = sorted(random.Random(seed).sample(range(len(corpus)), max_snippets))
        corpus = [corpus[i] for i in keep]
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the stdlib Python snippet corpus (one snippet per line).")
    parser.add_argument("--out", help="write the snippets here, one per line")
    parser.add_argument("--max-snippets", type=int, default=None, help="seeded random sample of this size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", help="a source tree other than the stdlib (not cached)")
    parser.add_argument("--no-cache", action="store_true", help="rebuild instead of reading ~/.cache/codefusion")
    parser.add_argument("--stats", action="store_true", help="print counts and the Python version")
    args = parser.parse_args(argv)

    corpus = build_python_corpus(args.max_snippets, args.seed, root=args.root, use_cache=not args.no_cache)
    if args.out:
        Path(args.out).write_text("\n".join(corpus) + "\n", encoding="utf-8")
    if args.stats:
        root = Path(args.root) if args.root else stdlib_dir()
        lengths = sorted(len(s) for s in corpus) or [0]
        print(f"python {python_version()}  root {root}  files {len(_source_files(root))}")
        print(f"snippets {len(corpus)}  chars median {lengths[len(lengths) // 2]}  max {lengths[-1]}")
        if not args.root:
            print(f"cache {cache_path()}")
    if not args.out and not args.stats:
        parser.error("nothing to do: give --out FILE and/or --stats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
