"""Differential test: execute() against LibreOffice Calc computing the same conditions.

A workbook holds data in A2:B{n} (mixed numbers, ties, text in both cases, spaces, blanks,
#N/A errors, dates around today) and, in helper columns, the Excel formula each rule stands
for (Excel's own conditional-format formulas where it has them, e.g. SEARCH for "contains",
AGGREGATE-based LARGE for top N). LibreOffice recalculates it headless; the rows where a helper
column is TRUE must be exactly the rows execute() formats. Formula rules are also checked
against LibreOffice evaluating the very same formula, copied down with relative references.

Known Excel/LibreOffice difference kept out of the data: COUNTIF(range, 5) counts the text "5"
in Excel (its "=" criteria turn numeric text into numbers, which our COUNTIF follows) but not in
LibreOffice, so column A holds no numbers stored as text ("5 kg" instead of "5").

Skips when `soffice` is missing, unless CF_REQUIRE_LIBREOFFICE=1 (CI), where that fails.
"""
import os
import random
import shutil
import subprocess
from datetime import date, timedelta

import openpyxl
import pytest
from openpyxl.formula.translate import Translator

from cf_rules.executor import execute
from cf_rules.parser import parse
from cf_rules.table import ExcelError, Table

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

N_ROWS = 80
LAST = N_ROWS + 1            # data in rows 2..LAST
A = f"$A$2:$A${LAST}"

# (rule, Excel formula for row 2 that is TRUE exactly where the rule formats the cell in column A)
CELL_RULES = [
    ("GreaterThan(500)", "A2>500"),
    ("LessThan(500)", "A2<500"),
    ("GreaterThanEqual(40)", "A2>=40"),
    ("Equals(40)", "A2=40"),
    ("NotEquals(40)", "A2<>40"),
    ("Equals(apple)", 'A2="apple"'),
    ("Between(40, 700)", "AND(A2>=40,A2<=700)"),
    ("NotBetween(700, 40)", "OR(A2<40,A2>700)"),
    ("TextContains(an)", 'NOT(ISERROR(SEARCH("an",A2)))'),
    ("TextContains(5)", 'NOT(ISERROR(SEARCH("5",A2)))'),
    ("TextStartsWith(ap)", 'LEFT(A2,LEN("ap"))="ap"'),
    ("TextEndsWith(E)", 'RIGHT(A2,LEN("E"))="E"'),
    ("NOT(TextContains(an))", 'ISERROR(SEARCH("an",A2))'),
    ("top(3)", f"AND(ISNUMBER(A2),A2>=_xlfn.AGGREGATE(14,6,{A},MIN(3,COUNT({A}))))"),
    ("top(10)", f"AND(ISNUMBER(A2),A2>=_xlfn.AGGREGATE(14,6,{A},MIN(10,COUNT({A}))))"),
    ("bottom(4)", f"AND(ISNUMBER(A2),A2<=_xlfn.AGGREGATE(15,6,{A},MIN(4,COUNT({A}))))"),
    ("top(10%)", f"AND(ISNUMBER(A2),A2>=_xlfn.AGGREGATE(14,6,{A},MAX(1,INT(COUNT({A})*10/100))))"),
    ("bottom(25%)", f"AND(ISNUMBER(A2),A2<=_xlfn.AGGREGATE(15,6,{A},MAX(1,INT(COUNT({A})*25/100))))"),
    ("NOT(top(3))", f"AND(ISNUMBER(A2),NOT(A2>=_xlfn.AGGREGATE(14,6,{A},MIN(3,COUNT({A})))))"),
    ("aboveAverage()", f"AND(ISNUMBER(A2),A2>_xlfn.AGGREGATE(1,6,{A}))"),
    ("belowAverage()", f"AND(ISNUMBER(A2),A2<_xlfn.AGGREGATE(1,6,{A}))"),
    ("Duplicate()", f"AND(NOT(ISBLANK(A2)),NOT(ISERROR(A2)),COUNTIF({A},A2)>1)"),
    ("Unique()", f"AND(NOT(ISBLANK(A2)),NOT(ISERROR(A2)),COUNTIF({A},A2)=1)"),
    ("Blanks()", "LEN(TRIM(A2))=0"),
    ("NOT(Blanks())", "LEN(TRIM(A2))>0"),
    ("Errors()", "ISERROR(A2)"),
    ("NOT(Errors())", "NOT(ISERROR(A2))"),
    # Excel's timePeriod formulas (ECMA-376 Part 1, 18.3.1.10), TODAY() = the real date
    ("Today()", "FLOOR(A2,1)=TODAY()"),
    ("Yesterday()", "FLOOR(A2,1)=TODAY()-1"),
    ("Tomorrow()", "FLOOR(A2,1)=TODAY()+1"),
    ("Last7Days()", "AND(TODAY()-FLOOR(A2,1)<=6,FLOOR(A2,1)<=TODAY())"),
    ("ThisWeek()", "AND(TODAY()-ROUNDDOWN(A2,0)<=WEEKDAY(TODAY())-1,ROUNDDOWN(A2,0)-TODAY()<=7-WEEKDAY(TODAY()))"),
    ("LastWeek()", "AND(TODAY()-ROUNDDOWN(A2,0)>=(WEEKDAY(TODAY())),TODAY()-ROUNDDOWN(A2,0)<(WEEKDAY(TODAY())+7))"),
    ("NextWeek()", "AND(ROUNDDOWN(A2,0)-TODAY()>(7-WEEKDAY(TODAY())),ROUNDDOWN(A2,0)-TODAY()<(15-WEEKDAY(TODAY())))"),
    ("ThisMonth()", "AND(MONTH(A2)=MONTH(TODAY()),YEAR(A2)=YEAR(TODAY()))"),
    ("LastMonth()", "AND(MONTH(A2)=MONTH(EDATE(TODAY(),0-1)),YEAR(A2)=YEAR(EDATE(TODAY(),0-1)))"),
    ("NextMonth()", "AND(MONTH(A2)=MONTH(EDATE(TODAY(),0+1)),YEAR(A2)=YEAR(EDATE(TODAY(),0+1)))"),
    ("AND(GreaterThanEqual(25), LessThan(500))", "AND(A2>=25,A2<500)"),
    ("OR(TextEquals(apple), LessThan(0))", 'OR(A2&""="apple",A2<0)'),
]

# Row rules: conditions on A (c[0]) and B (c[1]); the helper is TRUE for rows that match.
ROW_RULES = [
    ("AND(GreaterThan(c[1], 50), TextContains(c[0], a))", 'AND($B2>50,NOT(ISERROR(SEARCH("a",$A2))))'),
    ("top(c[1], 5)", f"AND(ISNUMBER($B2),$B2>=LARGE($B$2:$B${LAST},5))"),
    ("OR(Blanks(c[0]), belowAverage(c[1]))", f"OR(LEN(TRIM($A2))=0,AND(ISNUMBER($B2),$B2<AVERAGE($B$2:$B${LAST})))"),
]

# Formula rules, run by our evaluator and by LibreOffice verbatim.
FORMULA_RULES = [
    "=AND(ISNUMBER(A2),A2>500)",
    "=COUNTIF($A$2:$A$81,A2)>1",
    '=ISNUMBER(SEARCH("p*e",A2))',
    "=IF(ISTEXT(A2),LEN(TRIM(A2))>3,MOD(ROUND(A2,0),2)=1)",
    '=OR(LEFT(UPPER(A2),2)="AP",RIGHT(A2,1)="5",EXACT(A2,"Kiwi"))',
    "=AND(ISNUMBER(B2),B2>=AVERAGE($B$2:$B$81),B2<=MAX($B$2:$B$81)-1)",
    "=A2=A3",
    "=SUM($B$2:B2)>1000",
    "=ABS(B2-50)<MIN(20,COUNT($A$2:$A$81))",
    "=ISBLANK(A2)",
    '=VALUE(IF(ISTEXT(A2),"0",A2))>100',
    '=AND(NOT(ISERROR(A2)),A2&"x"="applex")',
    "=A2>=TODAY()-3",
]


def _data(today: date):
    rnd = random.Random(1234)
    pool = [40, 40, 619.5, 500, 501, -3, 0, 25, 499.99, 1952.9, 700, 7, 5,
            "apple", "APPLE", "Banana", "kiwi", "Kiwi", "grape", "pine apple", " ", "   ", "b", "E", "5 kg",
            None, None, "NA()",
            today, today - timedelta(days=1), today + timedelta(days=1), today - timedelta(days=6),
            today - timedelta(days=9), today + timedelta(days=8), today + timedelta(days=12),
            today - timedelta(days=31), today + timedelta(days=31), today - timedelta(days=3)]
    column_a = [rnd.choice(pool) for _ in range(N_ROWS)]
    column_b = [rnd.choice([None, 10, 20, 50, 51, 75, 75, 90, 120, 33.3]) for _ in range(N_ROWS)]
    return column_a, column_b


def _soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        reason = "LibreOffice (soffice) is not on PATH; install libreoffice-calc to run the differential test"
        if os.environ.get("CF_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(reason + " (CF_REQUIRE_LIBREOFFICE=1)")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """(table for execute(), {helper column title: set of 0-based data rows that are TRUE})."""
    soffice = _soffice()
    tmp = tmp_path_factory.mktemp("lo_diff")
    today = date.today()
    column_a, column_b = _data(today)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["A1"], ws["B1"] = "Value", "Amount"
    for i, (a, b) in enumerate(zip(column_a, column_b), start=2):
        ws.cell(i, 1).value = "=NA()" if a == "NA()" else a
        if isinstance(a, date):
            ws.cell(i, 1).number_format = "yyyy-mm-dd"
        ws.cell(i, 2).value = b
    helpers = [(rule, f"IFERROR(IF({formula},TRUE,FALSE),FALSE)") for rule, formula in CELL_RULES + ROW_RULES]
    helpers += [(rule, f"IFERROR(IF({rule[1:]},TRUE,FALSE),FALSE)") for rule in FORMULA_RULES]
    for j, (rule, formula) in enumerate(helpers, start=3):
        ws.cell(1, j).value = rule if not rule.startswith("=") else "'" + rule
        for i in range(2, LAST + 1):
            origin = f"{openpyxl.utils.get_column_letter(j)}2"
            target = f"{openpyxl.utils.get_column_letter(j)}{i}"
            ws.cell(i, j).value = Translator("=" + formula, origin=origin).translate_formula(target)
    source = tmp / "diff.xlsx"
    wb.save(source)

    out_dir = tmp / "out"
    profile = (tmp / "profile").as_uri()
    proc = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                           "--convert-to", "xlsx", "--outdir", str(out_dir), str(source)],
                          capture_output=True, text=True, timeout=180)
    result = out_dir / "diff.xlsx"
    assert result.is_file(), f"LibreOffice did not convert the workbook: {proc.stdout} {proc.stderr}"

    calc = openpyxl.load_workbook(result, data_only=True)["Data"]
    truth = {}
    for j, (rule, _) in enumerate(helpers, start=3):
        column = [calc.cell(i, j).value for i in range(2, LAST + 1)]
        assert all(isinstance(v, bool) for v in column), f"{rule}: LibreOffice left {set(map(type, column))}"
        truth[rule] = {r for r, v in enumerate(column) if v}

    rows = [[ExcelError("#N/A") if a == "NA()" else a, b] for a, b in zip(column_a, column_b)]
    return Table(["Value", "Amount"], rows), truth, today


def _rows(cells) -> set[int]:
    return {int(address.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) - 2 for address in cells}


@pytest.mark.parametrize("rule", [r for r, _ in CELL_RULES])
def test_cell_rules_match_libreoffice(recalculated, rule):
    table, truth, today = recalculated
    ours = execute(parse(rule), table, columns=[0], today=today).cells
    assert _rows(ours) == truth[rule]


@pytest.mark.parametrize("rule", [r for r, _ in ROW_RULES])
def test_row_rules_match_libreoffice(recalculated, rule):
    table, truth, today = recalculated
    cells = execute(parse(rule), table, today=today).cells
    assert _rows(cells) == truth[rule]
    assert len(cells) == 2 * len(truth[rule])       # every cell of a matching row


@pytest.mark.parametrize("rule", FORMULA_RULES)
def test_formula_rules_match_libreoffice(recalculated, rule):
    table, truth, today = recalculated
    ours = execute(parse(rule), table, columns=[0], today=today).cells
    assert _rows(ours) == truth[rule]


def test_the_data_exercises_every_rule(recalculated):
    """Guards against a vacuous comparison: most helpers are TRUE somewhere and FALSE somewhere."""
    _, truth, _ = recalculated
    mixed = [rule for rule, rows in truth.items() if 0 < len(rows) < N_ROWS]
    assert len(mixed) >= len(truth) - 4, sorted(set(truth) - set(mixed))
