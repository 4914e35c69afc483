"""generate_cf executes each (rule, table) once per request: the previews reuse the ranking's runs."""
from contextlib import nullcontext

import pytest

from cf_service import pipeline
from cf_rules import runs
from cf_rules.printer import to_canonical
from codefusion.tasks import get_task

# the request names no column but speaks of rows: the ranking neither grounds nor ungrounds (tasks/cf/adapter.py)
ROWS = [["Region", "Sales"]] + [[r, s] for r, s in zip(["North", "South", "East", "West"] * 5, range(100, 2100, 100))]
# decoded codes as the model gives them: agreeing draws repeat a code, spellings differ
CODES = ["LessThan(c[1], 500)", "LessThan(c[1], 500)", "lessthan(c[1],500)", "GreaterThan(c[1], 900)",
         "GreaterThan(c[1], 900)", "top(3)", "LessThan(c[5], 1)"]


class RankingGenerator:
    """Stands in for codefusion's Generator: its codes go through the CF task's ranking, which
    executes them on the table the way the real generator's postprocessing does."""

    def generate(self, request, table=None, k=5, steps=None, seed=None):
        return get_task("cf").postprocess(CODES, [-0.1 * i for i in range(len(CODES))], request, table)[:k]


@pytest.fixture
def executions(monkeypatch):
    calls = []
    real = runs.execute

    def counting(rule, table, *, columns=None):
        calls.append((rule, id(table)))
        return real(rule, table, columns=columns)
    monkeypatch.setattr(runs, "execute", counting)
    return calls


@pytest.mark.parametrize("address", [None, "C5"])
def test_each_rule_runs_once_per_table(executions, address):
    placed = pipeline.place_table(ROWS, address)
    out = pipeline.generate_cf(RankingGenerator(), "highlight rows under 500", placed, k=5)
    # grounded on the table: 900 and c[5] come from nowhere in the request or the table and are dropped
    rules = [c["rule"] for c in out["candidates"]]
    assert rules[0] == "LessThan(c[1], 500)" and not any("900" in r or "c[5]" in r for r in rules)
    # every rule ran once: the ranking's runs (on the rows at A1) serve the previews wherever the rows sit
    succeeded = [rule for rule, _table in executions]
    assert len(succeeded) == len(set(succeeded))
    assert {"LessThan(c[1], 500)"} <= {to_canonical(rule) for rule in succeeded}


@pytest.mark.parametrize("address", [None, "C5"])
def test_reusing_runs_changes_no_answer(monkeypatch, address):
    placed = pipeline.place_table(ROWS, address)
    memoised = pipeline.generate_cf(RankingGenerator(), "highlight rows under 500", placed, k=5)
    monkeypatch.setattr(pipeline, "request_runs", nullcontext)
    assert pipeline.generate_cf(RankingGenerator(), "highlight rows under 500", placed, k=5) == memoised
