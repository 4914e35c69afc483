"""Batch over a workbook: run_batch and the `python -m cf_service.batch` command."""
from __future__ import annotations

import hashlib
import io
import json
import sys
import types

import openpyxl
import pytest

from cf_service.batch import BatchItem, load_items, main, run_batch
from cf_rules.errors import WorkbookError

from .support import ScriptedGenerator
from .test_api import workbook_bytes

ROWS = [["Region", "Sales", "Status"], ["North", 420, "Open"], ["South", 980, "Closed"], ["East", 310, "Open"]]


class ByRequest(ScriptedGenerator):
    """Different codes per request, so each (sheet, range) gets its own rule."""

    def __init__(self, table: dict[str, list[str]]):
        super().__init__([])
        self.table = table

    def generate(self, request, table=None, k=5, steps=None, seed=None):
        self.codes = self.table[request]
        return super().generate(request, table=table, k=k, steps=steps, seed=seed)


GENERATOR = {"sales under 500": ["LessThan(500)", "top(1)", "Nope("],
             "open status": ["TextEquals(Open)", "TextContains(Open)"],
             "nothing valid": ["Nope(", ")("]}


def test_run_batch_writes_the_best_rule_per_range_and_reports_alternatives():
    book = workbook_bytes(ROWS)
    items = [BatchItem("Sales", "B1:B4", "sales under 500"), BatchItem("Sales", "C1:C4", "open status"),
             BatchItem("Sales", "A1:C4", "nothing valid"), BatchItem("Sales", "A1:C1", "sales under 500")]
    generator = ByRequest(GENERATOR)
    output, report = run_batch(book, items, generator, k=3, seed=7, progress=False)
    assert (report["requests"], report["applied"], report["failed"]) == (4, 2, 2)
    first, second, third, fourth = report["results"]
    assert first["chosen"]["rule"] == "LessThan(500)" and first["chosen"]["applied_range"] == "Sales!B2:B4"
    assert first["chosen"]["cells_formatted"] == 2 and "500" in first["chosen"]["explanation"]
    assert [a["rule"] for a in first["alternatives"]] == ["top(1)"]
    assert second["chosen"]["rule"] == "TextEquals(Open)" and second["chosen"]["equivalent"] == ["TextContains(Open)"]
    assert third["status"] == "no_valid_rule" and third["chosen"] is None
    assert fourth["status"] == "error" and fourth["error"]["code"] == "table_error"
    # the generator saw the table read from the sheet, header first, placed at A1 as the API's JSON rows are
    seen = generator.calls[0]["table"]
    assert (seen.header, seen.rows, seen.origin) == (["Sales"], [[420], [980], [310]], (1, 1))
    assert generator.calls[0]["k"] == 3 and generator.calls[0]["seed"] == 7
    ws = openpyxl.load_workbook(io.BytesIO(output))["Sales"]
    written = {str(cf.sqref): [r.type for r in cf.rules] for cf in ws.conditional_formatting}
    assert written == {"B2:B4": ["cellIs"], "C2:C4": ["cellIs"]}


def test_run_batch_refuses_a_broken_workbook():
    with pytest.raises(WorkbookError):
        run_batch(b"not a workbook", [BatchItem("Sales", "A1:B2", "x")], ByRequest(GENERATOR), progress=False)


def test_load_items_from_json_and_csv(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps([{"sheet": "S", "range": "A1:B4", "request": "top 3"}]))
    (tmp_path / "r.csv").write_text("Sheet,Range,Request\nS,A1:B4,top 3\nS,C1:C9,\"under 5, in red\"\n")
    assert load_items(tmp_path / "r.json") == [BatchItem("S", "A1:B4", "top 3")]
    assert load_items(tmp_path / "r.csv")[1] == BatchItem("S", "C1:C9", "under 5, in red")
    (tmp_path / "bad.csv").write_text("sheet,request\nS,x\n")
    with pytest.raises(ValueError, match="range"):
        load_items(tmp_path / "bad.csv")
    (tmp_path / "bad.json").write_text(json.dumps([{"sheet": "S", "range": "", "request": "x"}]))
    with pytest.raises(ValueError, match="request 0: 'range'"):
        load_items(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="does not exist"):
        load_items(tmp_path / "missing.json")


@pytest.fixture
def fake_codefusion(monkeypatch):
    """`codefusion.generate.load_generator` for the command, without a checkpoint."""
    module = types.ModuleType("codefusion.generate")
    module.load_generator = lambda task, checkpoint=None: ByRequest(GENERATOR)
    monkeypatch.setitem(sys.modules, "codefusion.generate", module)


def test_command_writes_output_and_report_and_leaves_the_input_alone(tmp_path, fake_codefusion, capsys):
    source = tmp_path / "q1.xlsx"
    source.write_bytes(workbook_bytes(ROWS))
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    requests = tmp_path / "requests.csv"
    requests.write_text("sheet,range,request\nSales,B1:B4,sales under 500\nSales,C1:C4,open status\n")
    out, report = tmp_path / "out.xlsx", tmp_path / "report.json"
    code = main([str(source), str(requests), "-o", str(out), "--report", str(report), "-k", "2"])
    assert code == 0
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    saved = json.loads(report.read_text())
    assert saved["applied"] == 2 and saved["results"][1]["chosen"]["rule"] == "TextEquals(Open)"
    captured = capsys.readouterr()
    assert "Sales!B1:B4: LessThan(500)" in captured.out and "2/2 requests applied" in captured.out
    assert "cf batch" in captured.err            # the tqdm progress bar
    assert len(openpyxl.load_workbook(out)["Sales"].conditional_formatting) == 2


def test_command_exits_3_with_a_summary_when_a_request_fails(tmp_path, fake_codefusion, capsys):
    source = tmp_path / "q1.xlsx"
    source.write_bytes(workbook_bytes(ROWS))
    requests = tmp_path / "requests.csv"
    requests.write_text("sheet,range,request\nSales,B1:B4,sales under 500\nNoSuchSheet,C1:C4,open status\n")
    out = tmp_path / "out.xlsx"
    assert main([str(source), str(requests), "-o", str(out), "--no-progress"]) == 3
    captured = capsys.readouterr()
    assert "1/2 requests applied" in captured.out and "1 of 2 requests failed" in captured.err
    assert out.exists()                          # the applied request is in the output


def test_command_refuses_to_overwrite_its_input(tmp_path, fake_codefusion):
    source = tmp_path / "q1.xlsx"
    source.write_bytes(workbook_bytes(ROWS))
    requests = tmp_path / "r.json"
    requests.write_text(json.dumps([{"sheet": "Sales", "range": "B1:B4", "request": "sales under 500"}]))
    with pytest.raises(SystemExit) as exit_info:
        main([str(source), str(requests), "-o", str(source)])
    assert exit_info.value.code == 2


def test_command_reports_a_bad_workbook(tmp_path, fake_codefusion, capsys):
    source = tmp_path / "q1.xlsx"
    source.write_text("Region,Sales\n")
    requests = tmp_path / "r.json"
    requests.write_text(json.dumps([{"sheet": "Sales", "range": "B1:B4", "request": "sales under 500"}]))
    assert main([str(source), str(requests), "-o", str(tmp_path / "o.xlsx")]) == 1
    assert "not an .xlsx" in capsys.readouterr().err
    assert not (tmp_path / "o.xlsx").exists()
