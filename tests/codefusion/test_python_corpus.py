import ast
import json

import pytest

from codefusion import python_corpus as pc

SMALL_ROOT = pc.stdlib_dir() / "json"   # a few stdlib modules: fast, still real code

SOURCE = '''
x = 1  # module level: not a function body, ignored

def f(items, path):
    total = sum(len(i) for i in items)
    if total:
        names = sorted(os.listdir(path))
    print(total)
    self.cache = {}
    value = _private(items)
    call_with_a_very_long_argument_list(argument_one, argument_two, argument_three, argument_four, argument_five)
    data = {
        "a": 1,
    }
    return os.path.join(path, names[0])

def g():
    total = sum(len(i) for i in items)
    yield total
    return x
'''


def test_snippets_from_source_hand_checked():
    assert pc.snippets_from_source(SOURCE) == [
        "total = sum(len(i) for i in items)",
        "names = sorted(os.listdir(path))",
        "print(total)",
        "os.path.join(path, names[0])",
        "total = sum(len(i) for i in items)",   # duplicates are removed later, per corpus
    ]


def test_small_root_is_deterministic_parseable_one_line_and_unique():
    first = pc.build_python_corpus(root=SMALL_ROOT)
    second = pc.build_python_corpus(root=SMALL_ROOT)
    assert first == second
    assert len(first) > 50
    assert len(set(first)) == len(first)
    for snippet in first:
        assert "\n" not in snippet and pc.MIN_CHARS <= len(snippet) <= pc.MAX_CHARS
        ast.parse(snippet)
        assert "self" not in {n.id for n in ast.walk(ast.parse(snippet)) if isinstance(n, ast.Name)}


def test_sampling_is_seeded_and_keeps_walk_order():
    full = pc.build_python_corpus(root=SMALL_ROOT)
    a = pc.build_python_corpus(20, seed=1, root=SMALL_ROOT)
    assert a == pc.build_python_corpus(20, seed=1, root=SMALL_ROOT)
    assert a != pc.build_python_corpus(20, seed=2, root=SMALL_ROOT)
    assert len(a) == 20
    positions = [full.index(s) for s in a]
    assert positions == sorted(positions)
    with pytest.raises(ValueError, match="max_snippets"):
        pc.build_python_corpus(-1, root=SMALL_ROOT)


def test_test_suites_and_skipped_folders_are_not_walked():
    files = pc._source_files(pc.stdlib_dir())
    assert files == sorted(files)
    for path in files:
        parts = set(path.relative_to(pc.stdlib_dir()).parts)
        assert not parts & {"test", "tests", "idlelib", "lib2to3", "site-packages"}
        assert not path.name.startswith("test_")


def test_cli_writes_file_and_prints_stats(tmp_path, capsys):
    out = tmp_path / "snippets.txt"
    assert pc.main(["--root", str(SMALL_ROOT), "--out", str(out), "--stats"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == pc.build_python_corpus(root=SMALL_ROOT)
    printed = capsys.readouterr().out
    assert f"python {pc.python_version()}" in printed
    assert f"snippets {len(lines)}" in printed


@pytest.mark.slow
def test_full_stdlib_corpus_is_cached_per_python_version(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = pc.build_python_corpus()
    cache = pc.cache_path()
    assert cache.parent == tmp_path / "codefusion" and pc.python_version() in cache.name
    assert cache.read_text(encoding="utf-8").splitlines() == built
    assert json.loads(cache.with_suffix(".json").read_text())["snippets"] == len(built)
    assert len(built) > 5000
    assert pc.build_python_corpus() == built            # read back from the cache
    for snippet in built:
        ast.parse(snippet)
