"""The synthetic generator (codefusion/cfgen): every gold rule parses, is canonical and runs."""
import json
from collections import Counter

import pytest

from cf_rules.executor import execute
from cf_rules.parser import parse
from cf_rules.printer import to_canonical
from cf_rules.table import table_from_json
from codefusion.cfgen import KIND_WEIGHTS, generate
from codefusion.cfgen.__main__ import main as cli_main
from codefusion.cfgen.phrasing import is_held_out
from codefusion.cfgen.vocab import REFERENCE_TODAY


def check_triple(t):
    rule = parse(t["rule"])
    assert to_canonical(rule) == t["rule"], "stored rule is not canonical"
    run = execute(rule, table_from_json(t["table"]), today=REFERENCE_TODAY, columns=t["columns"])
    assert run.cells, f"{t['rule']} formats no cell of its table"
    assert t["request"].strip() and "«" not in t["request"] and "{" not in t["request"]


@pytest.mark.parametrize("kind", sorted(KIND_WEIGHTS))
def test_every_kind_parses_and_runs(kind):
    triples = generate(40, seed=11, kinds={kind: 1.0})
    assert len(triples) == 40
    for t in triples:
        check_triple(t)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KIND_WEIGHTS))
def test_every_kind_parses_and_runs_large(kind):
    for t in generate(300, seed=2, kinds={kind: 1.0}):
        check_triple(t)


def test_all_rule_names_and_date_periods_are_covered():
    triples = generate(3000, seed=0)
    names = Counter(t["kind"].split("/")[0] for t in triples)
    for name in ("GreaterThan", "LessThan", "Between", "NotBetween", "TextContains", "TextEquals", "TextStartsWith",
                 "TextEndsWith", "top", "bottom", "aboveAverage", "belowAverage", "Duplicate", "Unique", "Blanks",
                 "Errors", "ColorScale", "DataBar", "IconSet", "AND", "OR", "NOT", "Equals", "NotEquals",
                 "GreaterThanEqual", "LessThanEqual"):
        assert names[name] > 0, name
    dates = generate(400, seed=1, kinds={"Date": 1.0})
    assert {t["kind"].split("/")[0] for t in dates} == {"Today", "Yesterday", "Tomorrow", "Last7Days", "ThisWeek",
                                                         "LastWeek", "NextWeek", "ThisMonth", "LastMonth", "NextMonth"}
    assert any(t["kind"].endswith("/row") for t in triples)
    assert any(t["rule"].startswith("top(") and t["rule"].endswith("%)") for t in triples)


def test_deterministic_and_varied():
    a, b = generate(200, seed=5), generate(200, seed=5)
    assert a == b
    assert generate(50, seed=6) != a[:50]
    assert len({t["request"] for t in a}) >= 195


def test_literals_come_from_the_table():
    for t in generate(200, seed=3, kinds={"TextEquals": 1.0}):
        value = parse(t["rule"]).args[-1].value
        cells = {str(v).lower() for row in t["table"][1:] for v in row}
        assert value.lower() in cells


def test_train_split_never_uses_held_out_phrasings_and_novel_always_does():
    train = generate(300, seed=4, split="train")
    assert not any(t["held_out"] for t in train)
    novel = generate(100, seed=4, split="novel")
    assert all(t["held_out"] for t in novel)
    assert {t["request"] for t in novel}.isdisjoint({t["request"] for t in train})


def test_held_out_is_stable():
    assert is_held_out("some phrase") == is_held_out("some phrase")


def test_cli_writes_jsonl(tmp_path, capsys):
    out = tmp_path / "syn.jsonl"
    assert cli_main(["--n", "30", "--seed", "1", "--out", str(out), "--stats"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30
    assert {"request", "table", "rule", "kind"} <= set(json.loads(lines[0]))
    stats = json.loads(capsys.readouterr().out)
    assert stats["triples"] == 30 and sum(stats["by_kind"].values()) == 30


def test_bad_split_is_a_clear_error():
    with pytest.raises(ValueError, match="split"):
        generate(1, split="dev")
