"""A corpus of real-looking workbooks for the "no lost workbooks" tests, and the package
comparison that decides whether a rewritten workbook kept everything it had.

Every workbook has a sheet "Data" with a header in row 1 and 20 data rows:
A Region (text), B Name (text), C Value (number), D Date (date), E Double (formula =C*2),
so a rule applied to `Data!C2:C21` is meaningful in all of them. Each workbook adds the
features a user's file really has: styles, existing CF rules, data validation, defined names,
merged cells, comments, hyperlinks, frozen panes, several sheets, a table, charts, images,
a VBA project (.xlsm), a pivot table and, where LibreOffice is installed, a LibreOffice-saved copy.

    build_corpus(folder) -> {name: path}
    package_problems(before, after, edited_parts) -> [problem, ...]   (empty: nothing lost)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

DATA_SHEET = "Data"
VALUE_RANGE = "C2:C21"          # the numeric column, data rows only
TABLE_RANGE = "A1:E21"          # header + data
N_ROWS = 20
REGIONS = ("North", "South", "East")

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
# Changing these attributes is not losing anything: containers recount their children, and a
# new CF rule may take the top priority (priorities must stay unique, so others shift down).
VOLATILE_ATTRIBUTES = {"count", "priority"}

# The first 8 bytes of every OLE2 / Compound File Binary container (legacy .xls, encrypted
# OOXML, vbaProject.bin).
CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


# ---------------------------------------------------------------- building the workbooks


def _rows():
    """Deterministic data: (region, name, value, date)."""
    for i in range(N_ROWS):
        yield (REGIONS[i % 3], f"Item {i + 1}", round(37.5 * ((i * 7) % 23) - 120.25, 2),
               dt.date(2024, 1, 1) + dt.timedelta(days=11 * i))


def _base_workbook(*, with_chart=False, with_image=False):
    """An openpyxl Workbook with the common features; charts and images on request."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
    from openpyxl.styles import Border, Font, PatternFill, Side
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.table import Table, TableStyleInfo

    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    ws.append(["Region", "Name", "Value", "Date", "Double"])
    for r, (region, name, value, date) in enumerate(_rows(), start=2):
        ws.append([region, name, value, date, f"=C{r}*2"])
        ws.cell(r, 3).number_format = "#,##0.00"
        ws.cell(r, 4).number_format = "yyyy-mm-dd"
    total_row = N_ROWS + 2
    ws.cell(total_row, 2, "Total").font = Font(italic=True)
    ws.cell(total_row, 3, f"=SUM(C2:C{N_ROWS + 1})")

    thin = Side(style="thin", color="FF999999")
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFFFF")
        cell.fill = PatternFill("solid", fgColor="FF305496")
        cell.border = Border(bottom=thin)
    ws.column_dimensions["B"].width = 18
    ws.freeze_panes = "A2"

    # Existing conditional formats the new rule must not disturb.
    ws.conditional_formatting.add(
        f"C2:C{N_ROWS + 1}",
        CellIsRule(operator="lessThan", formula=["0"], font=Font(color="FF9C0006"),
                   fill=PatternFill("solid", bgColor="FFFFC7CE")))
    ws.conditional_formatting.add(
        f"E2:E{N_ROWS + 1}",
        ColorScaleRule(start_type="min", start_color="FFF8696B", end_type="max", end_color="FF63BE7B"))

    dv = DataValidation(type="list", formula1='"North,South,East"', allow_blank=True)
    dv.add(f"A2:A{N_ROWS + 1}")
    ws.add_data_validation(dv)

    ws["A1"].comment = Comment("Sales region of the row", "corpus")
    ws["B2"].hyperlink = "https://example.com/items/1"
    ws["B2"].style = "Hyperlink"
    ws.merge_cells("G1:H1")
    ws["G1"] = "Merged note"

    table = Table(displayName="SalesTable", ref=f"A1:E{N_ROWS + 1}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)

    wb.defined_names["SalesValues"] = DefinedName("SalesValues", attr_text=f"{DATA_SHEET}!$C$2:$C${N_ROWS + 1}")

    summary = wb.create_sheet("Summary")
    summary.append(["Region", "Total"])
    for region in REGIONS:
        summary.append([region, f'=SUMIF({DATA_SHEET}!A:A,"{region}",{DATA_SHEET}!C:C)'])
    summary["D1"] = "Grand total"
    summary["D2"] = "=SUM(SalesValues)"

    notes = wb.create_sheet("Notes")
    notes["A1"] = "Numbers are invented for tests."
    notes.sheet_properties.tabColor = "FF00B050"

    if with_chart:
        from openpyxl.chart import BarChart, LineChart, Reference
        bar = BarChart()
        bar.title = "Total by region"
        bar.add_data(Reference(summary, min_col=2, min_row=1, max_row=4), titles_from_data=True)
        bar.set_categories(Reference(summary, min_col=1, min_row=2, max_row=4))
        summary.add_chart(bar, "F2")
        line = LineChart()
        line.title = "Value by row"
        line.add_data(Reference(ws, min_col=3, min_row=1, max_row=N_ROWS + 1), titles_from_data=True)
        ws.add_chart(line, "J3")

    if with_image:
        from openpyxl.drawing.image import Image as SheetImage
        from PIL import Image as PILImage
        png = io.BytesIO()
        PILImage.new("RGB", (48, 24), (200, 30, 30)).save(png, format="PNG")
        png.seek(0)
        notes.add_image(SheetImage(png), "C3")
    return wb


def _save(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rewrite_package(xlsx: bytes, *, replace: dict[str, bytes], add: dict[str, bytes]) -> bytes:
    """A copy of the package with some parts replaced and some added (order kept)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, data in add.items():
            dst.writestr(name, data)
    return out.getvalue()


def _insert_before(xml: bytes, marker: bytes, fragment: bytes) -> bytes:
    assert marker in xml, marker
    return xml.replace(marker, fragment + marker, 1)


def make_xlsm() -> bytes:
    """A macro-enabled workbook: the base package plus xl/vbaProject.bin, its relationship and
    the macro-enabled content type. The VBA part is an opaque CFB blob, as in real files."""
    xlsx = _save(_base_workbook())
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        types, rels = z.read("[Content_Types].xml"), z.read("xl/_rels/workbook.xml.rels")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    types = _insert_before(types, b"</Types>",
                           b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')
    rels = _insert_before(rels, b"</Relationships>",
                          b'<Relationship Id="rIdVba1" Target="vbaProject.bin" '
                          b'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"/>')
    vba = CFB_MAGIC + bytes(range(256)) * 8    # opaque payload; only its bytes must survive
    return _rewrite_package(xlsx, replace={"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels},
                            add={"xl/vbaProject.bin": vba})


def make_pivot() -> bytes:
    """A workbook with a pivot table (sum of Value by Region) on sheet "Pivot", written as raw
    SpreadsheetML parts (openpyxl cannot create one): cache definition, cache records, table."""
    wb = _base_workbook()
    pivot_sheet = wb.create_sheet("Pivot")
    pivot_sheet["A3"], pivot_sheet["B3"] = "Row Labels", "Sum of Value"
    rows = list(_rows())
    totals = {r: round(sum(v for reg, _, v, _ in rows if reg == r), 2) for r in REGIONS}
    for i, region in enumerate(REGIONS, start=4):
        pivot_sheet.cell(i, 1, region)
        pivot_sheet.cell(i, 2, totals[region])
    pivot_sheet.cell(7, 1, "Grand Total")
    pivot_sheet.cell(7, 2, round(sum(totals.values()), 2))
    xlsx = _save(wb)
    # The pivot table hangs off its sheet only through the sheet's .rels file.
    sheet_index = wb.sheetnames.index("Pivot") + 1

    values = [v for _, _, v, _ in rows]
    shared = "".join(f'<s v="{r}"/>' for r in REGIONS)
    cache_def = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<pivotCacheDefinition xmlns="{NS_MAIN}" xmlns:r="{NS_REL}" r:id="rId1" refreshOnLoad="1" '
        f'createdVersion="6" refreshedVersion="6" minRefreshableVersion="3" recordCount="{N_ROWS}">'
        f'<cacheSource type="worksheet"><worksheetSource ref="A1:C{N_ROWS + 1}" sheet="{DATA_SHEET}"/></cacheSource>'
        f'<cacheFields count="3">'
        f'<cacheField name="Region" numFmtId="0"><sharedItems count="3">{shared}</sharedItems></cacheField>'
        f'<cacheField name="Name" numFmtId="0"><sharedItems/></cacheField>'
        f'<cacheField name="Value" numFmtId="0"><sharedItems containsSemiMixedTypes="0" containsString="0" '
        f'containsNumber="1" minValue="{min(values)}" maxValue="{max(values)}"/></cacheField>'
        f'</cacheFields></pivotCacheDefinition>').encode()
    records = "".join(f'<r><x v="{REGIONS.index(reg)}"/><s v="{name}"/><n v="{v}"/></r>'
                      for reg, name, v, _ in rows)
    cache_records = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<pivotCacheRecords xmlns="{NS_MAIN}" xmlns:r="{NS_REL}" count="{N_ROWS}">{records}</pivotCacheRecords>'
    ).encode()
    table = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<pivotTableDefinition xmlns="{NS_MAIN}" name="PivotTable1" cacheId="1" dataCaption="Values" '
        f'updatedVersion="6" minRefreshableVersion="3" createdVersion="6" useAutoFormatting="1" '
        f'itemPrintTitles="1" indent="0" outline="1" outlineData="1">'
        f'<location ref="A3:B7" firstHeaderRow="1" firstDataRow="1" firstDataCol="1"/>'
        f'<pivotFields count="3">'
        f'<pivotField axis="axisRow" showAll="0"><items count="4"><item x="0"/><item x="1"/><item x="2"/>'
        f'<item t="default"/></items></pivotField>'
        f'<pivotField showAll="0"/><pivotField dataField="1" showAll="0"/></pivotFields>'
        f'<rowFields count="1"><field x="0"/></rowFields>'
        f'<rowItems count="4"><i><x/></i><i><x v="1"/></i><i><x v="2"/></i><i t="grand"><x/></i></rowItems>'
        f'<colItems count="1"><i/></colItems>'
        f'<dataFields count="1"><dataField name="Sum of Value" fld="2" baseField="0" baseItem="0"/></dataFields>'
        f'<pivotTableStyleInfo name="PivotStyleLight16" showRowHeaders="1" showColHeaders="1" '
        f'showRowStripes="0" showColStripes="0" showLastColumn="1"/>'
        f'</pivotTableDefinition>').encode()

    def rels(*entries):
        body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in entries)
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{NS_PKG_REL}">{body}</Relationships>').encode()

    od = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        types = z.read("[Content_Types].xml")
        wb_xml = z.read("xl/workbook.xml")
        wb_rels = z.read("xl/_rels/workbook.xml.rels")
        sheet_rels_name = f"xl/worksheets/_rels/sheet{sheet_index}.xml.rels"
        assert sheet_rels_name not in z.namelist()
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml."
    types = _insert_before(types, b"</Types>", (
        f'<Override PartName="/xl/pivotCache/pivotCacheDefinition1.xml" ContentType="{ct}pivotCacheDefinition+xml"/>'
        f'<Override PartName="/xl/pivotCache/pivotCacheRecords1.xml" ContentType="{ct}pivotCacheRecords+xml"/>'
        f'<Override PartName="/xl/pivotTables/pivotTable1.xml" ContentType="{ct}pivotTable+xml"/>').encode())
    wb_rels = _insert_before(wb_rels, b"</Relationships>", (
        f'<Relationship Id="rIdPivotCache1" Type="{od}pivotCacheDefinition" '
        f'Target="pivotCache/pivotCacheDefinition1.xml"/>').encode())
    # pivotCaches comes after calcPr in CT_Workbook's sequence; openpyxl writes calcPr last.
    wb_xml = _insert_before(wb_xml, b"</workbook>",
                            f'<pivotCaches><pivotCache cacheId="1" r:id="rIdPivotCache1" xmlns:r="{NS_REL}"/>'
                            f'</pivotCaches>'.encode())
    return _rewrite_package(xlsx, replace={
        "[Content_Types].xml": types, "xl/workbook.xml": wb_xml, "xl/_rels/workbook.xml.rels": wb_rels,
    }, add={
        "xl/pivotCache/pivotCacheDefinition1.xml": cache_def,
        "xl/pivotCache/_rels/pivotCacheDefinition1.xml.rels": rels(
            ("rId1", f"{od}pivotCacheRecords", "pivotCacheRecords1.xml")),
        "xl/pivotCache/pivotCacheRecords1.xml": cache_records,
        "xl/pivotTables/pivotTable1.xml": table,
        "xl/pivotTables/_rels/pivotTable1.xml.rels": rels(
            ("rId1", f"{od}pivotCacheDefinition", "../pivotCache/pivotCacheDefinition1.xml")),
        sheet_rels_name: rels(("rId1", f"{od}pivotTable", "../pivotTables/pivotTable1.xml")),
    })


def libreoffice_resave(xlsx: bytes, workdir: Path, timeout_s: float = 120) -> bytes:
    """The workbook opened and saved again by LibreOffice Calc (headless), as a user's
    LibreOffice-made file would be. A private profile dir keeps parallel runs apart."""
    soffice = soffice_path()
    if soffice is None:
        raise FileNotFoundError("soffice not on PATH")
    src = workdir / "lo_input.xlsx"
    out_dir = workdir / "lo_out"
    out_dir.mkdir(exist_ok=True)
    src.write_bytes(xlsx)
    profile = workdir / "lo_profile"
    subprocess.run(  # test fixture tooling, never in the service: LibreOffice builds a corpus file
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out_dir), str(src)],
        check=True, timeout=timeout_s, capture_output=True)
    return (out_dir / "lo_input.xlsx").read_bytes()


def build_corpus(folder: Path, *, libreoffice: bool | None = None) -> dict[str, Path]:
    """Write the corpus into `folder`; returns {name: path}. `libreoffice=None`: include the
    LibreOffice-saved workbook when soffice is installed."""
    folder.mkdir(parents=True, exist_ok=True)
    books = {
        "features.xlsx": _save(_base_workbook()),
        "charts.xlsx": _save(_base_workbook(with_chart=True)),
        "image.xlsx": _save(_base_workbook(with_image=True)),
        "everything.xlsx": _save(_base_workbook(with_chart=True, with_image=True)),
        "macro.xlsm": make_xlsm(),
        "pivot.xlsx": make_pivot(),
    }
    if libreoffice is None:
        libreoffice = soffice_path() is not None
    if libreoffice:
        with tempfile.TemporaryDirectory() as tmp:
            books["libreoffice.xlsx"] = libreoffice_resave(books["everything.xlsx"], Path(tmp))
    paths = {}
    for name, data in books.items():
        path = folder / name
        path.write_bytes(data)
        paths[name] = path
    return paths


# ---------------------------------------------------------------- comparing packages


def read_parts(xlsx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        names = z.namelist()
        if len(names) != len(set(names)):
            dupes = [n for n, c in Counter(names).items() if c > 1]
            raise AssertionError(f"package has duplicate part names: {dupes}")
        return {name: z.read(name) for name in names}


def sheet_part(parts: dict[str, bytes], sheet_name: str) -> str:
    """The part name (e.g. xl/worksheets/sheet1.xml) of a sheet, resolved through the
    workbook's relationships (names are not always sheetN.xml, e.g. after LibreOffice)."""
    wb = ElementTree.fromstring(parts["xl/workbook.xml"])
    rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target") for r in rels}
    for sheet in wb.iter(f"{{{NS_MAIN}}}sheet"):
        if sheet.get("name") == sheet_name:
            target = targets[sheet.get(f"{{{NS_REL}}}id")]
            return target.lstrip("/") if target.startswith("/") else os.path.normpath(f"xl/{target}")
    raise KeyError(sheet_name)


def styles_part(parts: dict[str, bytes]) -> str | None:
    return next((n for n in parts if n.lower().endswith("styles.xml") and n.startswith("xl/")), None)


def _signatures(xml: bytes) -> Counter:
    """Each element as (path of tags, attributes less the volatile ones, text): a multiset
    whose containment says 'every element that was there is still there, unchanged'."""
    root = ElementTree.fromstring(xml)
    out: Counter = Counter()

    def walk(el, path):
        here = f"{path}/{el.tag}"
        attrs = tuple(sorted((k, v) for k, v in el.attrib.items() if k not in VOLATILE_ATTRIBUTES))
        out[(here, attrs, (el.text or "").strip())] += 1
        for child in el:
            walk(child, here)

    walk(root, "")
    return out


def package_problems(before: bytes, after: bytes, edited_parts: set[str]) -> list[str]:
    """What the rewrite lost or changed that it should not have; [] when the package is kept:
    every part byte-identical except `edited_parts` (the edited sheet XML and styles.xml),
    and in those every pre-existing element still present."""
    old, new = read_parts(before), read_parts(after)
    problems = []
    for name, data in old.items():
        if name not in new:
            problems.append(f"part lost: {name}")
        elif name in edited_parts:
            missing = _signatures(data) - _signatures(new[name])
            for (path, attrs, text), n in list(missing.items())[:5]:
                problems.append(f"{name}: element gone or changed: {path} {dict(attrs)} {text[:40]!r} (x{n})")
            if len(missing) > 5:
                problems.append(f"{name}: ... {len(missing) - 5} more elements gone or changed")
        elif new[name] != data:
            problems.append(f"part changed: {name} ({len(data)} -> {len(new[name])} bytes)")
    for name in sorted(set(new) - set(old)):
        problems.append(f"part added: {name}")
    return problems
