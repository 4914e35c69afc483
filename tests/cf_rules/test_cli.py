"""`python -m cf_rules parse|run`: output, errors and exit codes."""
import json
import subprocess
import sys
from datetime import datetime

import openpyxl
import pytest

from cf_rules.__main__ import main

TABLE = [["Index", "Value"], [0, ""], [1, "619.5"], [2, "abc"], [3, "2024-05-20"], [4, "40"]]


@pytest.fixture
def table_file(tmp_path):
    path = tmp_path / "table.json"
    path.write_text(json.dumps(TABLE), encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_prints_canonical_rule_and_explanation(capsys):
    code, out, err = run(capsys, "parse", "and(greaterthanequal(25),lessthan(50))")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "AND(GreaterThanEqual(25), LessThan(50))"
    assert len(lines) == 2 and lines[1]


def test_parse_error_shows_a_caret_under_the_position(capsys):
    code, out, err = run(capsys, "parse", "AND(GreaterThan(5), LessThen(9))")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("error: ")
    assert lines[1] == "  AND(GreaterThan(5), LessThen(9))"
    assert lines[2] == "  " + " " * lines[1][2:].index("LessThen") + "^"
    assert any(line.startswith("expected: ") for line in lines)
    assert any(line.startswith("hint: ") for line in lines)


def test_run_prints_cells(capsys, table_file):
    code, out, err = run(capsys, "run", "GreaterThan(500)", "--table", str(table_file), "--columns", "1")
    assert code == 0, err
    result = json.loads(out)
    assert result["rule"] == "GreaterThan(500)"
    assert result["cells"] == ["B3", "B4", "B5"]          # text and the date serial are > 500
    assert result["explanation"] and "visual" not in result


def test_run_visual_rule_has_visual(capsys, table_file):
    code, out, _ = run(capsys, "run", "DataBar()", "--table", str(table_file), "--columns", "1")
    result = json.loads(out)
    assert code == 0 and result["cells"] == ["B3", "B5", "B6"]
    assert result["visual"]["B5"] == {"bar": 1.0, "color": "#638EC6"}


def test_run_with_today(capsys, table_file):
    code, out, _ = run(capsys, "run", "ThisWeek()", "--table", str(table_file), "--today", "2024-05-22")
    assert code == 0 and json.loads(out)["cells"] == ["B5"]


def test_run_on_a_workbook_sheet_and_range(capsys, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["C3"], ws["C4"], ws["C5"], ws["C6"] = "Sales", 700, "800", datetime(2024, 1, 1)
    path = tmp_path / "book.xlsx"
    wb.save(path)
    code, out, err = run(capsys, "run", "top(1)", "--table", str(path), "--sheet", "Data", "--range", "C3:C6")
    assert code == 0, err
    assert json.loads(out)["cells"] == ["C6"]              # "800" is text in a sheet; the date is 45292


@pytest.mark.parametrize("argv, message", [
    (["--sheet", "Nope"], "no sheet 'Nope'"),
    (["--range", "A1:"], "is not a cell range"),
])
def test_run_bad_sheet_or_range(capsys, tmp_path, argv, message):
    path = tmp_path / "book.xlsx"
    openpyxl.Workbook().save(path)
    code, out, err = run(capsys, "run", "top(1)", "--table", str(path), *argv)
    assert code == 1 and out == "" and message in err and "hint: " in err


def test_run_bad_table_file(capsys, tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"not": "a table"}')
    code, _, err = run(capsys, "run", "top(1)", "--table", str(path))
    assert code == 1 and "list of rows" in err
    code, _, err = run(capsys, "run", "top(1)", "--table", str(tmp_path / "missing.json"))
    assert code == 1 and "does not exist" in err


def test_run_unsupported_formula(capsys, table_file):
    code, _, err = run(capsys, "run", "=VLOOKUP(B2, A2:B6, 2)", "--table", str(table_file))
    assert code == 1 and "VLOOKUP" in err and "COUNTIF" in err


def test_run_bad_columns_is_a_table_error(capsys, table_file):
    code, _, err = run(capsys, "run", "top(1)", "--table", str(table_file), "--columns", "4")
    assert code == 1 and "column 4 is not in the table" in err


@pytest.mark.parametrize("argv", [
    [],
    ["run", "top(1)"],                                     # --table is required
    ["run", "top(1)", "--table", "t.json", "--today", "May 5"],
    ["run", "top(1)", "--table", "t.json", "--columns", "a,b"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_module_entry_point(table_file):
    proc = subprocess.run([sys.executable, "-m", "cf_rules", "run", "Unique()", "--table", str(table_file),
                           "--columns", "1"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cells"] == ["B3", "B4", "B5", "B6"]
