"""execute_once(): one execution per (rule, table, columns) inside a request_runs() block, none kept after."""
from dataclasses import replace

import pytest

from cf_rules import runs
from cf_rules.errors import TableError
from cf_rules.parser import parse
from cf_rules.table import table_from_json

TABLE = table_from_json([["Region", "Sales"], ["North", 420], ["South", 980], ["East", 310]])


@pytest.fixture
def executions(monkeypatch):
    """The (rule text, table, columns) of every real execution."""
    calls = []
    real = runs.execute

    def counting(rule, table, *, columns=None):
        calls.append((rule, table, columns))
        return real(rule, table, columns=columns)
    monkeypatch.setattr(runs, "execute", counting)
    return calls


def test_a_rule_runs_once_per_table_within_a_block(executions):
    rule = parse("LessThan(c[1], 500)")
    with runs.request_runs():
        first = runs.execute_once(rule, "LessThan(c[1], 500)", TABLE)
        again = runs.execute_once(rule, "LessThan(c[1], 500)", TABLE)
    assert again is first and first.cells == ["A2", "B2", "A4", "B4"]
    assert len(executions) == 1


def test_tables_columns_and_rules_are_separate_entries(executions):
    moved = replace(TABLE, origin=(5, 3))          # the same rows at C5: other addresses
    cell_rule = parse("GreaterThan(400)")
    with runs.request_runs():
        at_a1 = runs.execute_once(cell_rule, "GreaterThan(400)", TABLE)
        at_c5 = runs.execute_once(cell_rule, "GreaterThan(400)", moved)
        sales = runs.execute_once(cell_rule, "GreaterThan(400)", TABLE, columns=[1])
        other = runs.execute_once(parse("LessThan(400)"), "LessThan(400)", TABLE)
    assert len(executions) == 3                     # the rows at C5 reuse the run at A1, moved
    assert at_a1.cells[0] == "A2" and at_c5.cells[0] == "C6" and sales.cells == ["B2", "B3"]
    assert other.cells == ["B4"]


@pytest.mark.parametrize("code", ["GreaterThan(400)", "AND(TextStartsWith(c[0], S), GreaterThan(c[1], 500))",
                                  "ColorScale(c[1], white, green)", "IconSet(3Arrows)", "=$B2>400", "=B2>A$2"])
def test_a_run_reused_at_another_origin_equals_a_fresh_run_there(executions, code):
    moved = replace(TABLE, origin=(5, 3))
    rule = parse(code)
    with runs.request_runs():
        runs.execute_once(rule, code, TABLE)
        reused = runs.execute_once(rule, code, moved)
    assert reused == runs.execute(rule, moved)
    assert len(executions) == (3 if code.startswith("=") else 2)   # formulas depend on the origin: run again


def test_nothing_is_kept_outside_or_after_a_block(executions):
    rule = parse("top(1)")
    runs.execute_once(rule, "top(1)", TABLE)
    runs.execute_once(rule, "top(1)", TABLE)
    with runs.request_runs():
        runs.execute_once(rule, "top(1)", TABLE)
    with runs.request_runs():
        runs.execute_once(rule, "top(1)", TABLE)
    assert len(executions) == 4


def test_a_failing_rule_raises_every_time(executions):
    rule = parse("LessThan(c[7], 5)")
    with runs.request_runs():
        for _ in range(2):
            with pytest.raises(TableError):
                runs.execute_once(rule, "LessThan(c[7], 5)", TABLE)
    assert len(executions) == 2
