import difflib
import io
import os
import re
import shutil
import subprocess
import zipfile

import openpyxl
import pytest

from cf_rules import syntax
from cf_rules.errors import UnsupportedRuleError, WorkbookError
from cf_rules.excel.native import parse_range, rule_formula, to_openpyxl_rule, write_rules_to_worksheet
from cf_rules.excel.package import RuleApplication, apply_rules
from cf_rules.excel.styles import Style, style_from_request
from tests.fixtures.workbooks import (VBA_BYTES, build_extension_xlsx, build_pivot_xlsx, build_rich_xlsx,
                                      build_xlsm)

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")


def N(value):
    return syntax.Number(float(value), str(value))


def C(name, *args, column=None):
    return syntax.Condition(name, column, tuple(args))


T = syntax.Text


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    directory = tmp_path_factory.mktemp("books")
    return {"rich": build_rich_xlsx(directory), "xlsm": build_xlsm(directory),
            "pivot": build_pivot_xlsx(directory), "x14": build_extension_xlsx(directory)}


@pytest.fixture(scope="module")
def rich(books):
    return books["rich"].read_bytes()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def new_rules(data: bytes, sheet: str, min_priority: int):
    """(sqref, rule) pairs of a reopened workbook's sheet with priority >= min_priority."""
    ws = openpyxl.load_workbook(io.BytesIO(data))[sheet]
    return [(str(cf.sqref), rule) for cf in ws.conditional_formatting for rule in cf.rules
            if rule.priority >= min_priority]


def dxf_of(data: bytes, dxf_id: int):
    return openpyxl.load_workbook(io.BytesIO(data))._differential_styles[dxf_id]


# ------------------------------------------------------------------------- every rule kind

# (rule, range, expected attributes of the written cfRule); Sales has rules with priorities 1, 2
KINDS = [
    (C("GreaterThan", N(500)), "C2:C13", dict(type="cellIs", operator="greaterThan", formula=["500"])),
    (C("GreaterThanEqual", N("2.5")), "C2:C13", dict(type="cellIs", operator="greaterThanOrEqual", formula=["2.5"])),
    (C("LessThan", N(-5251.4737555988249)), "C2:C13", dict(type="cellIs", operator="lessThan",
                                                           formula=["-5251.473755598825"])),
    (C("LessThanEqual", N(7)), "C2:C13", dict(type="cellIs", operator="lessThanOrEqual", formula=["7"])),
    (C("Equals", N(2006)), "C2:C13", dict(type="cellIs", operator="equal", formula=["2006"])),
    (C("Equals", T("Done")), "F2:F13", dict(type="cellIs", operator="equal", formula=['"Done"'])),
    (C("NotEquals", N(0)), "C2:C13", dict(type="cellIs", operator="notEqual", formula=["0"])),
    (C("Between", N(400), N(800)), "C2:C13", dict(type="cellIs", operator="between", formula=["400", "800"])),
    (C("NotBetween", N(10), N(15)), "C2:C13", dict(type="cellIs", operator="notBetween", formula=["10", "15"])),
    (C("TextEquals", T('Say "hi"')), "F2:F13", dict(type="cellIs", operator="equal", formula=['"Say ""hi"""'])),
    (C("TextContains", T("Do")), "F2:F13", dict(type="containsText", operator="containsText", text="Do",
                                                formula=['NOT(ISERROR(SEARCH("Do",F2)))'])),
    (C("TextStartsWith", T("Op")), "F2:F13", dict(type="beginsWith", operator="beginsWith", text="Op",
                                                  formula=['LEFT(F2,LEN("Op"))="Op"'])),
    (C("TextEndsWith", T("te")), "F2:F13", dict(type="endsWith", operator="endsWith", text="te",
                                                formula=['RIGHT(F2,LEN("te"))="te"'])),
    (C("top", N(3)), "C2:C13", dict(type="top10", rank=3, percent=None, bottom=None)),
    (C("top"), "C2:C13", dict(type="top10", rank=10, percent=None, bottom=None)),
    (C("top", syntax.Percent(N(10))), "C2:C13", dict(type="top10", rank=10, percent=True, bottom=None)),
    (C("bottom", N(2)), "C2:C13", dict(type="top10", rank=2, percent=None, bottom=True)),
    (C("bottom", syntax.Percent(N(25))), "C2:C13", dict(type="top10", rank=25, percent=True, bottom=True)),
    (C("TopPercent", N(20)), "C2:C13", dict(type="top10", rank=20, percent=True, bottom=None)),
    (C("BottomPercent", N(5)), "C2:C13", dict(type="top10", rank=5, percent=True, bottom=True)),
    (C("aboveAverage"), "C2:C13", dict(type="aboveAverage", aboveAverage=None)),
    (C("belowAverage"), "C2:C13", dict(type="aboveAverage", aboveAverage=False)),
    (C("Duplicate"), "A2:A13", dict(type="duplicateValues")),
    (C("Unique"), "A2:A13", dict(type="uniqueValues")),
    (C("Blanks"), "A2:F13", dict(type="containsBlanks", formula=["LEN(TRIM(A2))=0"])),
    (C("NOT", C("Blanks")), "A2:F13", dict(type="notContainsBlanks", formula=["LEN(TRIM(A2))>0"])),
    (C("Errors"), "D2:D13", dict(type="containsErrors", formula=["ISERROR(D2)"])),
    (C("NOT", C("Errors")), "D2:D13", dict(type="notContainsErrors", formula=["NOT(ISERROR(D2))"])),
    (C("NOT", C("TextContains", T("x"))), "F2:F13", dict(type="notContainsText", operator="notContains",
                                                         text="x", formula=['ISERROR(SEARCH("x",F2))'])),
    (C("Today"), "E2:E13", dict(type="timePeriod", timePeriod="today", formula=["FLOOR(E2,1)=TODAY()"])),
    (C("Yesterday"), "E2:E13", dict(type="timePeriod", timePeriod="yesterday", formula=["FLOOR(E2,1)=TODAY()-1"])),
    (C("Tomorrow"), "E2:E13", dict(type="timePeriod", timePeriod="tomorrow", formula=["FLOOR(E2,1)=TODAY()+1"])),
    (C("Last7Days"), "E2:E13", dict(type="timePeriod", timePeriod="last7Days")),
    (C("ThisWeek"), "E2:E13", dict(type="timePeriod", timePeriod="thisWeek")),
    (C("LastWeek"), "E2:E13", dict(type="timePeriod", timePeriod="lastWeek")),
    (C("NextWeek"), "E2:E13", dict(type="timePeriod", timePeriod="nextWeek")),
    (C("ThisMonth"), "E2:E13", dict(type="timePeriod", timePeriod="thisMonth",
                                    formula=["AND(MONTH(E2)=MONTH(TODAY()),YEAR(E2)=YEAR(TODAY()))"])),
    (C("LastMonth"), "E2:E13", dict(type="timePeriod", timePeriod="lastMonth")),
    (C("NextMonth"), "E2:E13", dict(type="timePeriod", timePeriod="nextMonth")),
    (C("AND", C("GreaterThanEqual", N(25)), C("LessThan", N(50))), "C2:C13",
     dict(type="expression", formula=["AND(C2>=25,C2<50)"])),
    (C("OR", C("Blanks"), C("TextContains", T("Late"))), "F2:F13",
     dict(type="expression", formula=['OR(LEN(TRIM(F2))=0,NOT(ISERROR(SEARCH("Late",F2))))'])),
    (C("NOT", C("Between", N(1), N(5))), "C2:C13", dict(type="expression", formula=["NOT(AND(C2>=1,C2<=5))"])),
    (C("GreaterThan", N(100), column=2), "A2:F13", dict(type="expression", formula=["$C2>100"])),
    (C("AND", C("GreaterThan", N(50), column=2), C("TextEquals", T("Open"), column=5)), "A2:F13",
     dict(type="expression", formula=['AND($C2>50,$F2="Open")'])),
    (C("top", N(3), column=2), "A2:F13", dict(type="expression", formula=["$C2>=LARGE($C$2:$C$13,MIN(3,COUNT($C$2:$C$13)))"])),
    (C("bottom", syntax.Percent(N(10)), column=2), "A2:F13",
     dict(type="expression", formula=["$C2<=SMALL($C$2:$C$13,MAX(1,INT(COUNT($C$2:$C$13)*10/100)))"])),
    (C("aboveAverage", column=3), "A2:F13", dict(type="expression", formula=["$D2>AVERAGE($D$2:$D$13)"])),
    (C("Duplicate", column=0), "A2:F13", dict(type="expression", formula=["COUNTIF($A$2:$A$13,$A2)>1"])),
    (syntax.Formula("$C2>4000"), "A2:F13", dict(type="expression", formula=["$C2>4000"])),
    (syntax.Formula("=AND(A2<>\"\",B2>A2)"), "A2:B13", dict(type="expression", formula=['AND(A2<>"",B2>A2)'])),
]


@pytest.mark.parametrize("rule, cell_range, expected", KINDS, ids=[f"{i}-{k[0].__class__.__name__}-"
                                                                     f"{getattr(k[0], 'name', 'formula')}"
                                                                     for i, k in enumerate(KINDS)])
def test_every_rule_kind_is_written_natively(rich, rule, cell_range, expected):
    out = apply_rules(rich, [RuleApplication(rule, "Sales", cell_range, Style(fill="#C6EFCE", font_color="#006100"))])
    written = new_rules(out, "Sales", 3)
    assert len(written) == 1
    sqref, cf_rule = written[0]
    assert sqref == cell_range
    assert cf_rule.priority == 3
    for key, value in expected.items():
        assert getattr(cf_rule, key) == value, key
    dxf = dxf_of(out, cf_rule.dxfId)
    assert dxf.fill.bgColor.rgb == "FFC6EFCE"
    assert dxf.font.color.rgb == "FF006100"


def test_colour_scales_data_bars_and_icon_sets(rich):
    apps = [RuleApplication(C("ColorScale"), "Sales", "C2:C13"),
            RuleApplication(C("ColorScale", T("white"), T("blue")), "Sales", "D2:D13"),
            RuleApplication(C("ColorScale", T("green-yellow-red")), "Summary", "B2:B5"),
            RuleApplication(C("DataBar"), "Summary", "B2:B5"),
            RuleApplication(C("DataBar", T("#FF0000")), "Notes", "A1:A5"),
            RuleApplication(C("IconSet"), "Sales", "C2:C13"),
            RuleApplication(C("IconSet", T("5 rating")), "Sales", "D2:D13")]
    out = apply_rules(rich, apps)
    sales = new_rules(out, "Sales", 3)
    scales = [r for _, r in sales if r.type == "colorScale"]
    assert [c.rgb for c in scales[0].colorScale.color] == ["FFF8696B", "FFFFEB84", "FF63BE7B"]
    assert [c.type for c in scales[0].colorScale.cfvo] == ["min", "percentile", "max"]
    assert [c.rgb for c in scales[1].colorScale.color] == ["FFFFFFFF", "FF5A8AC6"]
    icons = [r for _, r in sales if r.type == "iconSet"]
    assert [r.iconSet.iconSet for r in icons] == ["3TrafficLights1", "5Rating"]
    assert [c.val for c in icons[1].iconSet.cfvo] == [0, 20, 40, 60, 80]
    summary = dict((r.type, r) for _, r in new_rules(out, "Summary", 1))
    assert [c.rgb for c in summary["colorScale"].colorScale.color] == ["FF63BE7B", "FFFFEB84", "FFF8696B"]
    assert summary["dataBar"].dataBar.color.rgb == "FF638EC6"
    assert summary["colorScale"].dxfId is None
    notes = new_rules(out, "Notes", 1)
    assert notes[0][1].dataBar.color.rgb == "FFFF0000"


def test_existing_rules_are_kept_and_new_ones_follow_their_priorities(rich):
    before = openpyxl.load_workbook(io.BytesIO(rich))["Sales"]
    old = [(str(cf.sqref), r.type, r.priority, r.formula) for cf in before.conditional_formatting for r in cf.rules]
    assert [p for *_, p, _ in old] == [1, 2]
    out = apply_rules(rich, [RuleApplication(C("LessThan", N(50)), "Sales", "C2:C13"),
                             RuleApplication(C("Duplicate"), "Sales", "A2:A13")])
    after = openpyxl.load_workbook(io.BytesIO(out))["Sales"]
    rules = [(str(cf.sqref), r.type, r.priority, r.formula) for cf in after.conditional_formatting for r in cf.rules]
    assert [r for r in rules if r[2] <= 2] == old
    assert sorted(r[2] for r in rules) == [1, 2, 3, 4]
    # the existing dxf 0 is untouched; ours are appended after it
    assert dxf_of(out, 0).fill.bgColor.rgb == dxf_of(rich, 0).fill.bgColor.rgb


def test_same_style_shares_one_dxf_and_styles_count_is_updated(rich):
    red = style_from_request("in red")
    out = apply_rules(rich, [RuleApplication(C("LessThan", N(1)), "Sales", "C2:C13", red),
                             RuleApplication(C("GreaterThan", N(9)), "Summary", "B2:B5", red),
                             RuleApplication(C("Blanks"), "Notes", "A1:A3", style_from_request("bold blue text"))])
    styles = parts(out)["xl/styles.xml"].decode()
    dxfs = re.search(r"<dxfs count=\"(\d+)\">(.*?)</dxfs>", styles, re.S)
    assert int(dxfs.group(1)) == dxfs.group(2).count("<dxf>") == 3  # 1 existing + 2 new
    ids = {r.dxfId for _, r in new_rules(out, "Sales", 3)} | {r.dxfId for _, r in new_rules(out, "Summary", 1)}
    assert ids == {1}
    blue = dxf_of(out, 2)
    assert blue.font.b and blue.font.color.rgb == "FF0070C0" and blue.fill is None


# ------------------------------------------------------------------------- preservation


def only_insertions(before: str, after: str, allow_replace=()) -> list[str]:
    """The inserted snippets; fails on any deletion or replacement not in allow_replace."""
    inserted = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "insert":
            inserted.append(after[j1:j2])
        elif tag != "equal":
            assert (before[i1:i2], after[j1:j2]) in allow_replace, (tag, before[i1:i2], after[j1:j2])
    return inserted


@pytest.mark.parametrize("book", ["rich", "xlsm", "pivot", "x14"])
def test_every_other_part_is_byte_identical(books, book):
    data = books[book].read_bytes()
    out = apply_rules(data, [RuleApplication(C("GreaterThan", N(500)), "Sales", "C2:C13"),
                             RuleApplication(C("IconSet"), "Sales", "D2:D13")])
    old, new = parts(data), parts(out)
    assert list(old) == list(new)           # same part names in the same order
    changed = {name for name in old if old[name] != new[name]}
    assert changed == {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    for name in ("xl/charts/chart1.xml", "xl/charts/chart2.xml", "xl/drawings/drawing1.xml",
                 "xl/media/image1.png", "xl/drawings/commentsDrawing1.vml", "xl/comments/comment1.xml",
                 "xl/workbook.xml", "[Content_Types].xml", "xl/worksheets/sheet2.xml"):
        assert new[name] == old[name], name
    if book == "xlsm":
        assert new["xl/vbaProject.bin"] == VBA_BYTES
    if book == "pivot":
        assert {n for n in new if "pivot" in n} == {n for n in old if "pivot" in n} and len(
            [n for n in new if "pivot" in n]) == 5

    sheet_old, sheet_new = old["xl/worksheets/sheet1.xml"].decode(), new["xl/worksheets/sheet1.xml"].decode()
    inserted = only_insertions(sheet_old, sheet_new)
    assert "".join(inserted).count("conditionalFormatting sqref=") == 2
    # formulas, data validation, defined names and merged cells are still exactly there
    assert re.findall(r"<(?:x:)?f>.*?</(?:x:)?f>", sheet_old) == re.findall(r"<(?:x:)?f>.*?</(?:x:)?f>", sheet_new)
    validation = re.search(r"<(x:)?dataValidations.*?</(x:)?dataValidations>", sheet_old).group(0)
    assert validation in sheet_new
    assert "TaxRate" in new["xl/workbook.xml"].decode()
    # the new conditionalFormatting sits before dataValidations, after the existing ones
    assert re.search(r"formula>500<", sheet_new).start() < sheet_new.index("dataValidations")
    assert sheet_new.rindex("conditionalFormatting sqref=\"C2:C13\"") < sheet_new.index("dataValidations")

    styles_old, styles_new = old["xl/styles.xml"].decode(), new["xl/styles.xml"].decode()
    only_insertions(styles_old, styles_new, allow_replace={("1", "2")})   # dxfs count 1 -> 2


def test_prefixed_namespace_and_x14_rules(books):
    data = books["x14"].read_bytes()
    out = apply_rules(data, [RuleApplication(C("LessThan", N(50)), "Sales", "C2:C13")])
    sheet = parts(out)["xl/worksheets/sheet1.xml"].decode()
    assert '<x:conditionalFormatting sqref="C2:C13"><x:cfRule type="cellIs" priority="8"' in sheet
    assert 'mc:Ignorable="x14ac"' in sheet and 'priority="7"' in sheet    # the x14 data bar is still there
    styles = parts(out)["xl/styles.xml"].decode()
    assert re.search(r'<x:dxfs count="2">.*<x:dxf><x:font>', styles, re.S)


def test_styles_without_dxfs_get_one_in_schema_position(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Data"
    wb.active["A1"] = 5
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    files = parts(path.read_bytes())
    styles = files["xl/styles.xml"].decode()
    for variant, text in {"self_closing": re.sub(r"<dxfs[^>]*?(/>|>.*?</dxfs>)", '<dxfs count="0"/>', styles, flags=re.S),
                          "absent": re.sub(r"<dxfs[^>]*?(/>|>.*?</dxfs>)", "", styles, flags=re.S)}.items():
        files["xl/styles.xml"] = text.encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, content in files.items():
                zf.writestr(name, content)
        out = apply_rules(buffer.getvalue(), [RuleApplication(C("GreaterThan", N(1)), "Data", "A1:A9")])
        new_styles = parts(out)["xl/styles.xml"].decode()
        assert re.search(r'</cellStyles><dxfs count="1"><dxf>.*?</dxfs><tableStyles', new_styles, re.S), variant
        reopened = new_rules(out, "Data", 1)
        assert dxf_of(out, reopened[0][1].dxfId).fill.bgColor.rgb == "FFFFC7CE"


def test_input_file_is_not_modified(books):
    before = books["xlsm"].read_bytes()
    copy = bytes(before)
    apply_rules(before, [RuleApplication(C("Today"), "Sales", "E2:E13")])
    assert books["xlsm"].read_bytes() == copy == before


# ------------------------------------------------------------------------- refusals


def test_unknown_sheet_lists_the_sheets(rich):
    with pytest.raises(WorkbookError) as info:
        apply_rules(rich, [RuleApplication(C("Today"), "Sheet9", "A1:A3")])
    assert info.value.code == "workbook_sheet_not_found"
    assert "'Sales', 'Summary', 'Notes'" in info.value.hint


def test_sheet_names_match_case_insensitively(rich):
    out = apply_rules(rich, [RuleApplication(C("Today"), "summary", "A2:A5")])
    assert new_rules(out, "Summary", 1)[0][1].type == "timePeriod"


@pytest.mark.parametrize("bad", ["", "A", "A0", "1A", "A1:B2:C3", "XFE1", "A1048577", "A1-B2", "Sheet1!A1"])
def test_bad_ranges_are_refused(rich, bad):
    with pytest.raises(WorkbookError) as info:
        apply_rules(rich, [RuleApplication(C("Today"), "Sales", bad)])
    assert info.value.code == "workbook_bad_range"


def test_range_parsing():
    assert parse_range("d20:a1").sqref == "A1:D20"
    assert parse_range("$B$2:$C$9").sqref == "B2:C9"
    assert parse_range("XFD1048576").sqref == "XFD1048576"


@pytest.mark.parametrize("rule, message", [
    (C("top", N(0)), "whole number from 1 to 1000"),
    (C("top", N("2.5")), "whole number"),
    (C("top", syntax.Percent(N(150))), "from 1 to 100"),
    (C("GreaterThan", N(1), column=7), "outside the range"),
    (C("AND", C("ColorScale"), C("GreaterThan", N(1))), "cannot be combined"),
    (C("AND", C("GreaterThan", N(1), column=0), C("LessThan", N(5))), "mixes conditions"),
    (C("IconSet", T("sparkles")), "unknown icon set"),
    (C("ColorScale", T("red"), T("sparkly")), "unknown colour"),
    (C("Nope"), "unknown rule kind"),
    (C("Between", N(1)), "takes 2 argument"),
    (syntax.Formula("=SUM(A1:A3"), "unbalanced"),
    (syntax.Formula("="), "empty"),
    (C("TextContains", T("x" * 300)), "300 characters"),
])
def test_unsupported_rules_are_refused_with_a_reason(rule, message):
    with pytest.raises(UnsupportedRuleError, match=message):
        to_openpyxl_rule(rule, "A2:C13", None)


def test_not_a_workbook_is_refused_before_writing():
    with pytest.raises(WorkbookError) as info:
        apply_rules(b"Region,Units\nNorth,5\n", [RuleApplication(C("Today"), "Sales", "A1")])
    assert info.value.code == "workbook_not_ooxml"


def test_strict_ooxml_is_refused(rich):
    files = parts(rich)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    strict = "http://purl.oclc.org/ooxml/spreadsheetml/main"
    files["xl/worksheets/sheet1.xml"] = files["xl/worksheets/sheet1.xml"].replace(main.encode(), strict.encode())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    with pytest.raises(WorkbookError) as info:
        apply_rules(buffer.getvalue(), [RuleApplication(C("Today"), "Sales", "A1")])
    assert info.value.code == "workbook_strict_ooxml"


# ------------------------------------------------------------------------- helpers and formulas


def test_rule_formula_is_relative_to_the_top_left_cell():
    assert rule_formula(C("GreaterThan", N(4000), column=2), "A2:D20") == "$C2>4000"
    assert rule_formula(C("Between", N(9), N(3)), "B5:B9") == "AND(B5>=3,B5<=9)"
    assert rule_formula(C("belowAverage"), "B5:C9") == "B5<AVERAGE($B$5:$C$9)"
    assert rule_formula(C("Unique"), "B5:B9") == "COUNTIF($B$5:$B$9,B5)=1"


def test_write_rules_to_worksheet_for_openpyxl_workbooks(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for value in (1, 5, 9):
        ws.append([value])
    write_rules_to_worksheet(ws, [(C("GreaterThan", N(4)), "A1:A3", style_from_request("in green")),
                                  (C("DataBar"), "A1:A3", None)])
    wb.save(tmp_path / "w.xlsx")
    reopened = openpyxl.load_workbook(tmp_path / "w.xlsx").active
    types = sorted(r.type for cf in reopened.conditional_formatting for r in cf.rules)
    assert types == ["cellIs", "dataBar"]


def test_parsed_rules_can_be_written(rich):
    parser = pytest.importorskip("cf_rules.parser")
    rules = ["GreaterThan(500)", "top(10%)", "AND(GreaterThan(c[2], 5), TextEquals(c[5], Open))",
             "NOT(Blanks())", "ColorScale(red, green)", "=$C2>$D2"]
    out = apply_rules(rich, [RuleApplication(parser.parse(text), "Sales", "A2:F13") for text in rules])
    types = [r.type for _, r in new_rules(out, "Sales", 3)]
    assert sorted(types) == sorted(["cellIs", "top10", "expression", "notContainsBlanks", "colorScale", "expression"])


# ------------------------------------------------------------------------- LibreOffice


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_reads_the_rules(books, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CF_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("CF_REQUIRE_LIBREOFFICE=1 but soffice is not on PATH")
        pytest.skip("LibreOffice (soffice) is not installed")
    out = apply_rules(books["pivot"].read_bytes(), [
        RuleApplication(C("GreaterThan", N(120)), "Sales", "C2:C13", style_from_request("in green")),
        RuleApplication(C("TextContains", T("Late")), "Sales", "F2:F13"),
        RuleApplication(C("Today"), "Sales", "E2:E13"),
        RuleApplication(C("GreaterThan", N(50), column=2), "Sales", "A2:F13"),
        RuleApplication(C("DataBar"), "Summary", "B2:B5")])
    source = tmp_path / "ours.xlsx"
    source.write_bytes(out)
    converted = tmp_path / "converted"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx", "--outdir", str(converted), str(source)],
                   check=True, capture_output=True, timeout=180)
    wb = openpyxl.load_workbook(converted / "ours.xlsx")
    sales = [(str(cf.sqref), r) for cf in wb["Sales"].conditional_formatting for r in cf.rules]
    kinds = {(sqref, r.type, r.operator) for sqref, r in sales}
    assert {("C2:C13", "cellIs", "greaterThan"), ("F2:F13", "containsText", "containsText"),
            ("E2:E13", "timePeriod", None), ("A2:F13", "expression", None)} <= kinds
    green = next(r for sqref, r in sales if r.type == "cellIs" and r.formula == ["120"])
    assert wb._differential_styles[green.dxfId].fill.bgColor.rgb.endswith("C6EFCE")
    assert [r.type for cf in wb["Summary"].conditional_formatting for r in cf.rules] == ["dataBar"]
    assert wb["Summary"]._pivots and wb["Sales"]._charts and wb["Sales"]._images


def test_visual_colours_agree_with_the_executor_table():
    """ColorScale/DataBar colour names resolve through syntax.COLOURS first, as the preview does."""
    assert to_openpyxl_rule(C("DataBar", T("purple")), "A1:A5").dataBar.color.rgb == "FF" + syntax.COLOURS["purple"][1:]
    rule = to_openpyxl_rule(C("ColorScale", T("lightblue"), T("darkred")), "A1:A5")
    assert [c.rgb for c in rule.colorScale.color] == ["FF" + syntax.COLOURS[n][1:].upper() for n in ("lightblue", "darkred")]


# ---------------------------------------------------------------- streaming package edits

from benchmarks.replay_issue17 import MAIN_NS as _MAIN, minimal_xlsx  # noqa: E402
from cf_rules.excel import package as _package  # noqa: E402
from cf_rules.excel.safety import CHUNK  # noqa: E402


def _apply_one(sheet: bytes, **kwargs) -> bytes:
    out = apply_rules(minimal_xlsx(sheet), [RuleApplication(C("GreaterThan", N(1)), "Sheet1", "A1:A3")], **kwargs)
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        return zf.read("xl/worksheets/sheet1.xml")


def _sheet(body: str, prefix: str = "", tail: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{_MAIN}"' if prefix else f'xmlns="{_MAIN}"'
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{p}worksheet {xmlns}><{p}sheetData>{body}</{p}sheetData>'
            f'{tail}</{p}worksheet>').encode()


def _rows(n: int, prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    return "".join(f'<{p}row r="{r}"><{p}c r="A{r}"><{p}v>{r}</{p}v></{p}c></{p}row>' for r in range(1, n + 1))


def _inserted_right(sheet: bytes, before: bytes, prefix: str = ""):
    p = f"{prefix}:" if prefix else ""
    start = sheet.index(f"<{p}conditionalFormatting".encode())
    end = sheet.index(f"</{p}conditionalFormatting>".encode()) + len(f"</{p}conditionalFormatting>")
    assert sheet[:start] + sheet[end:] == before
    assert sheet[:start].endswith(f"</{p}sheetData>".encode())


@pytest.mark.parametrize("prefix", ["", "x"])
def test_a_sheet_of_several_chunks_is_edited_after_its_sheet_data(prefix):
    sheet = _sheet(_rows(60_000, prefix), prefix, tail=f'<{prefix + ":" if prefix else ""}pageMargins left="1" '
                                                      'right="1" top="1" bottom="1" header="0" footer="0"/>')
    assert len(sheet) > 2 * CHUNK
    _inserted_right(_apply_one(sheet), sheet, prefix)


@pytest.mark.parametrize("shift", range(-14, 3))
def test_the_end_of_sheet_data_may_straddle_two_chunks(shift):
    # pad the cells so that </sheetData> begins `shift` bytes before the second chunk
    head = _sheet("")[:_sheet("").index(b"</sheetData>")]
    filler = _rows(40_000)
    pad = CHUNK * 2 + shift - len(head) - len(filler) - len('<row r="40001"><c r="A40001" t="inlineStr"><is><t></t></is></c></row>')
    assert pad > 0
    body = filler + f'<row r="40001"><c r="A40001" t="inlineStr"><is><t>{"p" * pad}</t></is></c></row>'
    sheet = _sheet(body)
    assert sheet.index(b"</sheetData>") == 2 * CHUNK + shift
    _inserted_right(_apply_one(sheet), sheet)


def test_an_empty_sheet_data_is_edited_after_it():
    sheet = f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData/><pageMargins left="1" right="1" top="1" ' \
            'bottom="1" header="0" footer="0"/></worksheet>'
    out = _apply_one(sheet.encode())
    assert out.index(b"<sheetData/><conditionalFormatting") < out.index(b"<pageMargins")


def test_a_fake_end_of_sheet_data_inside_the_cells_is_refused():
    # CDATA may hold "</sheetData>": where the bytes say sheetData ends, expat must agree
    body = _rows(60_000) + '<row r="60001"><c r="A60001" t="inlineStr"><is><t><![CDATA[</sheetData>]]></t></is></c></row>'
    with pytest.raises(WorkbookError) as info:
        _apply_one(_sheet(body))
    assert info.value.code == "workbook_unreadable_layout"


def test_existing_priorities_anywhere_in_the_sheet_are_continued():
    tail = ('<conditionalFormatting sqref="B1"><cfRule type="containsBlanks" priority="7"><formula>LEN(B1)=0</formula>'
            '</cfRule></conditionalFormatting>')
    out = _apply_one(_sheet(_rows(60_000), tail=tail))
    assert b'priority="8"' in out and out.count(b"<cfRule") == 2


def test_each_xml_part_is_parsed_at_most_once(rich, monkeypatch):
    from cf_rules.excel import safety

    streamed, trees = [], []
    original_init, original_parse = safety.XmlStream.__init__, _package._parse_small

    def counting_init(self, name):
        streamed.append(name)
        original_init(self, name)

    def counting_parse(data, part):
        trees.append(part)
        return original_parse(data, part)

    monkeypatch.setattr(safety.XmlStream, "__init__", counting_init)
    monkeypatch.setattr(_package, "_parse_small", counting_parse)
    apply_rules(rich, [RuleApplication(C("GreaterThan", N(1)), "Sales", "C2:C13")])
    parsed = streamed + trees
    assert len(parsed) == len(set(parsed)), sorted(parsed)
    assert set(trees) == {"xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
    with zipfile.ZipFile(io.BytesIO(rich)) as zf:
        xml_parts = {n for n in zf.namelist() if n.endswith((".xml", ".rels"))}
    assert set(parsed) == xml_parts
