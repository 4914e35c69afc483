"""Native rules written into a real workbook package without losing anything.

`apply_rules(xlsx_bytes, [RuleApplication(rule, sheet, cell_range, style)]) -> bytes` edits the
package surgically. openpyxl's load/save drops charts' formatting, images, pivot tables, VBA,
slicers, comment shapes and x14 extensions, so the workbook is never round-tripped through it.
Every zip part is copied unchanged except the target sheets' XML and xl/styles.xml, and in
those two only bytes are *inserted*:
  - styles.xml: new `<dxf>` entries appended inside `<dxfs>` (created before tableStyles /
    colors / extLst, the CT_Stylesheet position, when absent) and its `count` updated;
  - sheet XML: `<conditionalFormatting sqref=..>` elements after the last element that
    CT_Worksheet puts before them (sheetData ... phoneticPr, or an existing
    conditionalFormatting), i.e. before dataValidations/hyperlinks/pageMargins/drawing/extLst.
Why bytes and not a DOM: ElementTree re-serialises every namespace prefix (ns0:, ns1:) and drops
`mc:Ignorable` declarations that Excel needs, so a parse/serialise round trip would change
every byte of a sheet. New elements use the document's own prefix for the main namespace; new
rules get priorities above the sheet's current maximum (x14 rules included), so the existing
rules keep their numbers and their precedence.

Budgets: each XML part is parsed once, as a stream (expat events with byte offsets, no tree):
the safety check streams the parts nobody edits, the edited sheet and styles.xml are streamed
here to find where the new elements go, and then copied through with the insertion. Every other
part is copied as bytes, a chunk at a time, so memory does not grow with the size of a sheet.
The result is checked without parsing it again: the inserted fragments are parsed and counted,
and they go between two top-level elements of a part that was well-formed.

Anything that cannot be written without risk (strict OOXML, chartsheets, non-UTF-8 parts, a
missing styles part) is refused with a WorkbookError; the input bytes are never modified.
"""
from __future__ import annotations

import codecs
import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from openpyxl.formatting.rule import Rule

from .native import parse_range, to_openpyxl_rule
from .safety import (Limits, XmlStream, check_package, check_parts, iter_entry, read_entry,
                     workbook_error)
from .styles import Style

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
# The largest sheet or styles part an edit streams (a sheet of about a million cells): past it the
# parse and the recompression would take longer than a request should.
MAX_EDITED_PART_BYTES = 32 * 1024 * 1024
STYLES = "xl/styles.xml"

# CT_Worksheet elements that come before conditionalFormatting
_BEFORE_CF = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
              "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
              "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting")
# CT_Stylesheet elements that come after dxfs
_AFTER_DXFS = ("tableStyles", "colors", "extLst")


@dataclass(frozen=True)
class RuleApplication:
    rule: object              # syntax.Condition | syntax.Formula
    sheet: str
    cell_range: str
    style: Style | None = None


def _local(qname: str) -> str:
    return qname.split(":", 1)[-1]


# ---------------------------------------------------------------------------- one streamed pass

@dataclass
class _Child:
    local: str
    start: int          # byte offset of the child's '<'


class _PartScan(XmlStream):
    """What an edit needs to know of a sheet or styles part, from one expat pass: the root, its
    namespace, the byte offsets of its direct children and of its end tag, the highest cfRule
    priority, and for styles.xml how many <dxf> the <dxfs> holds and where it ends."""

    def __init__(self, name: str):
        super().__init__(name)
        self.depth = 0
        self.root: str | None = None
        self.root_ns: str | None = None
        self.children: list[_Child] = []
        self.end: int | None = None            # offset of the root's end tag
        self.max_priority = 0
        self.dxf_count = 0
        self.dxfs_end: int | None = None       # offset just past <dxfs ...> content: its end tag, or the empty tag's end
        self.head = b""
        self.open_sheet_data: tuple[str, int] | None = None   # (qname, offset) while sheetData is open
        self.skipping: re.Pattern | None = None               # its end tag, while its cells are fed unhandled
        self.tail = b""
        self.close_at: int | None = None                      # offset of that end tag once found
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if len(self.head) < 256:
            self.head += chunk[:256]
            _check_encoding(self.head, self.name)
        try:
            for at in range(0, len(chunk), 1 << 16):      # checked in slices: no text copy of the chunk
                self.utf8.decode(chunk[at:at + (1 << 16)])
            self.utf8.decode(b"", final)
        except UnicodeDecodeError:
            raise workbook_error("workbook_unsupported_encoding", f"{self.name} is not valid UTF-8",
                                 "re-save the workbook in Excel") from None
        if self.skipping is None and self.open_sheet_data is not None:
            self._skip_sheet_data()
        if self.skipping is not None:
            chunk = self._feed_skipped(chunk)
        self._feed_raw(chunk, final)

    def _feed_raw(self, piece: bytes, final: bool = False) -> None:
        super().feed(piece, final)
        self.tail = (self.tail + piece[-256:])[-256:]     # the last bytes fed, where an end tag may begin

    # sheetData is most of a sheet and holds nothing an edit needs: expat still checks it, but
    # with no Python handler called for its millions of cells. Its end tag is found in the bytes,
    # and expat must then report that very end tag first, or the part is refused.

    def _skip_sheet_data(self):
        qname, _ = self.open_sheet_data
        self.skipping = re.compile(re.escape(b"</" + qname.encode()) + rb"\s*>")
        self.parser.StartElementHandler = self.parser.EndElementHandler = None

    def _feed_skipped(self, chunk: bytes) -> bytes:
        """Feed the part of `chunk` inside sheetData with the handlers off; return the rest."""
        seam = self.tail + chunk[:256]                 # an end tag may straddle the two chunks
        found = self.skipping.search(seam)
        if found is not None:
            cut = found.start() - len(self.tail)      # negative: the end tag began in the last chunk
        else:
            found = self.skipping.search(chunk)
            if found is None:
                self._feed_raw(chunk)
                return b""
            cut = found.start()
        self.close_at = self.size + cut
        if cut > 0:
            self._feed_raw(chunk[:cut])
            chunk = chunk[cut:]
        self.skipping = None
        self.parser.StartElementHandler, self.parser.EndElementHandler = self._start, self._end
        return chunk

    def _start(self, qname: str, attrs: dict):
        if self.close_at is not None:
            self._out_of_place()
        local = _local(qname)
        if self.depth == 0:
            self.root = qname
            prefix = qname.split(":")[0] if ":" in qname else None
            self.root_ns = attrs.get(f"xmlns:{prefix}" if prefix else "xmlns")
        elif self.depth == 1:
            self.children.append(_Child(local, self.byte_index))
            if local == "sheetData":
                self.open_sheet_data = (qname, self.byte_index)
        elif self.depth == 2 and local == "dxf" and self.children[-1].local == "dxfs":
            self.dxf_count += 1
        if local == "cfRule" and (attrs.get("priority") or "").isdigit():
            self.max_priority = max(self.max_priority, int(attrs["priority"]))
        self.depth += 1

    def _out_of_place(self):
        raise workbook_error("workbook_unreadable_layout", f"could not locate the end of sheetData in {self.name} safely",
                             "re-save the workbook in Excel and try again")

    def _end(self, qname: str):
        if self.close_at is not None:            # the first event after the skipped cells
            if self.byte_index < self.close_at and qname != self.open_sheet_data[0]:
                return                           # an inner end tag expat had not reported yet
            if self.byte_index != self.close_at or qname != self.open_sheet_data[0]:
                self._out_of_place()
            self.close_at = None
            self.depth = 2                       # inside the worksheet, inside sheetData
        self.depth -= 1
        if self.depth == 1 and _local(qname) == "sheetData":
            self.open_sheet_data = None
        if self.depth == 0:
            self.end = self.byte_index
        elif self.depth == 1 and _local(qname) == "dxfs":
            self.dxfs_end = self.byte_index

    def check_spreadsheetml(self) -> None:
        if self.root_ns == STRICT_NS:
            raise workbook_error("workbook_strict_ooxml", f"{self.name} uses Strict Open XML",
                                 "save as 'Excel Workbook (.xlsx)', not 'Strict Open XML Spreadsheet'")
        if self.root_ns != MAIN_NS or self.end is None:
            raise workbook_error("workbook_corrupt", f"{self.name} is not a SpreadsheetML part", "check the file")

    @property
    def prefix(self) -> str:
        return self.root.split(":")[0] + ":" if ":" in self.root else ""


def _check_encoding(head: bytes, part: str) -> None:
    """Bytes can only be inserted into UTF-8 parts (what Excel writes)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
        raise workbook_error("workbook_unsupported_encoding", f"{part} is encoded as UTF-16",
                             "re-save the workbook in Excel (it writes UTF-8)")
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if body.startswith(b"<?xml"):
        declared = re.search(rb"encoding=[\"']([A-Za-z0-9_\-]+)", body.split(b"?>")[0])
        if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
            raise workbook_error("workbook_unsupported_encoding",
                                 f"{part} is encoded as {declared.group(1).decode()}",
                                 "re-save the workbook in Excel (it writes UTF-8)")


# ---------------------------------------------------------------------------- rendering

def _render(elem: Element, prefix: str) -> str:
    """Serialise an openpyxl tree (unqualified tags) with the document's main-namespace prefix.
    CR is written as a character reference in text too: a raw CR would be read back as LF."""
    def esc(value: str, attr: bool) -> str:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
        if attr:
            value = value.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
        return value
    tag = prefix + elem.tag.split("}")[-1]
    attrs = "".join(f' {k}="{esc(str(v), True)}"' for k, v in elem.attrib.items())
    inner = esc(elem.text, False) if elem.text else ""
    inner += "".join(_render(child, prefix) for child in elem)
    return f"<{tag}{attrs}>{inner}</{tag}>" if inner else f"<{tag}{attrs}/>"


def _count_in_fragment(fragment: str, local: str, prefix: str) -> int:
    """Elements named `local` in a fragment rendered with `prefix` (parsed on its own, to check it)."""
    declaration = f"xmlns:{prefix[:-1]}" if prefix else "xmlns"
    wrapped = f'<r {declaration}="{MAIN_NS}">{fragment}</r>'
    try:
        root = SafeET.fromstring(wrapped)
    except Exception:  # ParseError: a bug in the rendering
        raise workbook_error("workbook_write_failed", "the rules could not be written as valid XML",
                             "report this rule and workbook as a bug") from None
    return sum(1 for el in root.iter() if el.tag == f"{{{MAIN_NS}}}{local}")


# ---------------------------------------------------------------------------- the workbook's sheets

def _sheet_parts(workbook: bytes, rels: bytes) -> tuple[dict[str, str], list[str]]:
    """{sheet name: worksheet part path} from xl/workbook.xml and its relationships; plus all
    sheet names (chartsheets included) for error messages."""
    targets = {}
    for rel in _parse_small(rels, WORKBOOK_PARTS[1]):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        parts = []
        for piece in path.split("/"):       # resolve "../" in relationship targets
            if piece == "..":
                parts and parts.pop()
            elif piece not in ("", "."):
                parts.append(piece)
        targets[rel.get("Id")] = ("/".join(parts), rel.get("Type", ""))
    sheets, names = {}, []
    for sheet in _parse_small(workbook, WORKBOOK_PARTS[0]).iter(f"{{{MAIN_NS}}}sheet"):
        name = sheet.get("name")
        names.append(name)
        target, rel_type = targets.get(sheet.get(f"{{{REL_NS}}}id"), (None, ""))
        if target and rel_type.endswith("/worksheet"):
            sheets[name] = target
    return sheets, names


def _parse_small(data: bytes, part: str) -> Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except SafeET.ParseError as exc:
        raise workbook_error("workbook_corrupt", f"{part} is not well-formed XML ({exc})", "re-save the workbook in Excel")
    except Exception:   # a defusedxml refusal
        raise workbook_error("workbook_xml_entities", f"{part} declares a DTD or entities",
                             "Excel never writes these; they are refused as a possible entity bomb")


def find_sheet(sheets: dict[str, str], names: list[str], wanted: str) -> tuple[str, str]:
    """(name, part) of a worksheet; Excel sheet names are case-insensitive."""
    if wanted in sheets:
        return wanted, sheets[wanted]
    for name, part in sheets.items():
        if name.lower() == str(wanted).lower():
            return name, part
    if wanted in names or str(wanted).lower() in (n.lower() for n in names):
        raise workbook_error("workbook_not_a_worksheet", f"{wanted!r} is a chart sheet or dialog sheet",
                             "conditional formatting applies to worksheets: " + ", ".join(sheets))
    raise workbook_error("workbook_sheet_not_found", f"there is no sheet named {wanted!r}",
                         "the workbook's sheets are: " + ", ".join(repr(n) for n in names))


# ---------------------------------------------------------------------------- edits as insertions

@dataclass
class _Edit:
    """Bytes to insert into one part: {offset: bytes}, and a replacement of one span (dxfs' start tag)."""
    inserts: dict[int, bytes] = field(default_factory=dict)
    replace: tuple[int, int, bytes] | None = None


def _styles_edit(data: bytes, scan: _PartScan, dxfs: list[Element]) -> tuple[_Edit, int]:
    """The edit that appends `dxfs` to styles.xml; returns it and the index of the first new dxf."""
    first, count, prefix = scan.dxf_count, scan.dxf_count + len(dxfs), scan.prefix
    new_xml = "".join(_render(d, prefix) for d in dxfs)
    if _count_in_fragment(new_xml, "dxf", prefix) != len(dxfs):
        raise workbook_error("workbook_write_failed", "the new styles could not be read back",
                             "report this workbook as a bug")
    node = next((c for c in scan.children if c.local == "dxfs"), None)
    if node is None:
        after = next((c for c in scan.children if c.local in _AFTER_DXFS), None)
        at = after.start if after else scan.end
        element = f'<{prefix}dxfs count="{count}">{new_xml}</{prefix}dxfs>'
        return _Edit(inserts={at: element.encode()}), first
    tag = re.compile(rb"<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(/?)>")
    match = tag.match(data, node.start)
    if match is None:
        raise workbook_error("workbook_unreadable_layout", "could not locate <dxfs> in xl/styles.xml safely",
                             "re-save the workbook in Excel and try again")
    start_tag = match.group(0).decode("utf-8")
    if match.group(1):                                  # <dxfs count="0"/>
        element = f'<{prefix}dxfs count="{count}">{new_xml}</{prefix}dxfs>'
        return _Edit(replace=(node.start, match.end(), element.encode())), first
    if re.search(r'\scount="\d*"', start_tag):
        start_tag = re.sub(r'(\scount=")\d*(")', rf"\g<1>{count}\g<2>", start_tag)
    else:
        start_tag = start_tag[:-1] + f' count="{count}">'
    return _Edit(inserts={scan.dxfs_end: new_xml.encode()},
                 replace=(node.start, match.end(), start_tag.encode())), first


def _sheet_edit(scan: _PartScan, blocks: list[tuple[str, list[Rule]]]) -> tuple[_Edit, int]:
    """The edit that adds one conditionalFormatting per (sqref, rules); rules' priorities continue
    after the sheet's highest. Returns it and the number of cfRule elements it holds."""
    if _local(scan.root) != "worksheet":
        raise workbook_error("workbook_not_a_worksheet", f"{scan.name} is not a worksheet", "pick a worksheet")
    last_before = max((i for i, c in enumerate(scan.children) if c.local in _BEFORE_CF), default=None)
    if last_before is None:
        raise workbook_error("workbook_corrupt", f"{scan.name} has no sheetData", "re-save the workbook in Excel")
    priority = scan.max_priority
    pieces = []
    for sqref, rules in blocks:
        block = Element("conditionalFormatting", {"sqref": sqref})
        for rule in rules:
            priority += 1
            rule.priority = priority
            block.append(rule.to_tree())
        pieces.append(_render(block, scan.prefix))
    fragment = "".join(pieces)
    following = scan.children[last_before + 1] if last_before + 1 < len(scan.children) else None
    at = following.start if following else scan.end
    return _Edit(inserts={at: fragment.encode("utf-8")}), _count_in_fragment(fragment, "cfRule", scan.prefix)


def _edited_chunks(chunks, edit: _Edit):
    """The part's bytes with the edit applied, streamed; offsets are those of the original bytes."""
    changes = sorted([(at, at, data) for at, data in edit.inserts.items()] + ([edit.replace] if edit.replace else []))
    i, position, skip_until = 0, 0, 0
    for chunk in chunks:
        end = position + len(chunk)
        cursor = position                      # next original byte to copy
        while i < len(changes) and changes[i][0] <= end:
            start, stop, data = changes[i]
            copy_from = max(cursor, skip_until)
            if start > copy_from:
                yield chunk[copy_from - position:start - position]
            yield data
            cursor, skip_until, i = start, max(skip_until, stop), i + 1
        copy_from = max(cursor, skip_until)
        if copy_from < end:
            yield chunk[copy_from - position:]
        position = end
    for _start, _stop, data in changes[i:]:
        yield data


# ---------------------------------------------------------------------------- apply

def apply_rules(xlsx: bytes, applications: list[RuleApplication], *, kind: str | None = None,
                max_part_bytes: int | None = None, checked: bool = False, **safety_limits) -> bytes:
    """A copy of the workbook with each rule added to its sheet and range; every other part is
    copied unchanged. `kind` ("xlsx"/"xlsm"), when given, is the kind the file's name promises
    (see check_kind);
    a sheet (or styles part) over `max_part_bytes` (MAX_EDITED_PART_BYTES) uncompressed is refused before it is read.
    `checked`: the caller ran check_workbook on these bytes, so the unedited parts are not parsed again.
    Raises WorkbookError (bad file, sheet, range) or UnsupportedRuleError."""
    limits = Limits(**safety_limits)
    max_part_bytes = MAX_EDITED_PART_BYTES if max_part_bytes is None else max_part_bytes
    zin, actual_kind = check_package(xlsx, limits)
    with zin:
        check_kind(kind, actual_kind)
        if not applications:
            raise workbook_error("workbook_no_rules", "there are no rules to write", "pass at least one RuleApplication")
        infos = {info.filename: info for info in zin.infolist()}
        if WORKBOOK_PARTS[1] not in infos:
            raise workbook_error("workbook_corrupt", "xl/_rels/workbook.xml.rels is missing", "re-save the workbook")
        sheets, names = _sheet_parts(*(read_entry(zin, infos[p], limits.max_uncompressed) for p in WORKBOOK_PARTS))
        if STYLES not in infos:
            raise workbook_error("workbook_no_styles", "the workbook has no styles part (xl/styles.xml)",
                                 "open and re-save it in Excel, which adds one")

        per_sheet, dxfs, pending = _native_rules(applications, sheets, names, infos)
        edited = set(per_sheet) | ({STYLES} if dxfs else set())
        for part in sorted(edited):
            if infos[part].file_size > max_part_bytes:
                raise workbook_error("workbook_sheet_too_large",
                                     f"{part} is {infos[part].file_size / 1e6:.0f} MB of XML; at most "
                                     f"{max_part_bytes / 1e6:.0f} MB can be edited in one request",
                                     "apply the rules in Excel itself (the task pane does), or split the sheet")
        if not checked:
            check_parts(zin, limits, parsed_by_caller=edited | set(WORKBOOK_PARTS))
        part_limits = Limits(limits.max_bytes, min(limits.max_uncompressed, max_part_bytes),
                             limits.max_ratio, limits.max_parts)

        edits, added_rules = {}, 0
        if dxfs:
            styles = read_entry(zin, infos[STYLES], part_limits.max_uncompressed)   # its <dxfs> start tag is rewritten
            scan = _PartScan(STYLES).run([styles])
            scan.check_spreadsheetml()
            edits[STYLES], first = _styles_edit(styles, scan, dxfs)
            for rule, offset in pending:
                rule.dxfId = first + offset
        for part, blocks in per_sheet.items():
            scan = _PartScan(part).run(iter_entry(zin, infos[part], part_limits.max_uncompressed))
            scan.check_spreadsheetml()
            edits[part], count = _sheet_edit(scan, list(blocks.items()))
            added_rules += count
        if added_rules != len(applications):
            raise workbook_error("workbook_write_failed", "the written rules could not be read back",
                                 "report this workbook as a bug")
        return _write(zin, edits, limits)


def _native_rules(applications, sheets, names, infos):
    """Rules grouped per sheet part, then per range, in the order given; the distinct dxfs; and
    (rule, index among the new dxfs) for each rule that has one."""
    per_sheet: dict[str, dict[str, list[Rule]]] = {}
    dxfs: list[Element] = []
    dxf_index: dict[str, int] = {}
    pending: list[tuple[Rule, int]] = []
    for app in applications:
        _, part = find_sheet(sheets, names, app.sheet)
        if part not in infos:
            raise workbook_error("workbook_corrupt", f"sheet {app.sheet!r} points at missing part {part}",
                                 "re-save the workbook in Excel")
        rng = parse_range(app.cell_range)
        rule = to_openpyxl_rule(app.rule, rng, app.style)
        if rule.dxf is not None:
            tree = rule.dxf.to_tree()
            key = _render(tree, "")
            if key not in dxf_index:
                dxf_index[key] = len(dxfs)
                dxfs.append(tree)
            pending.append((rule, dxf_index[key]))
        per_sheet.setdefault(part, {}).setdefault(rng.sqref, []).append(rule)
    return per_sheet, dxfs, pending


def _write(zin: zipfile.ZipFile, edits: dict[str, _Edit], limits: Limits) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type = info.compress_type if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
                else zipfile.ZIP_DEFLATED
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            chunks = iter_entry(zin, info, limits.max_uncompressed)
            if info.filename in edits:
                chunks = _edited_chunks(chunks, edits[info.filename])
                # the fastest deflate for the big part that was edited: 3x faster than the default
                copy._compresslevel = 1
            with zout.open(copy, "w", force_zip64=info.file_size > 1 << 30) as handle:
                for chunk in chunks:
                    handle.write(chunk)
    return out.getvalue()


def check_kind(named: str | None, actual: str) -> None:
    """Macro content under an .xlsx name comes back as an .xlsx holding vbaProject.bin, which
    Excel refuses to open; a plain workbook under an .xlsm name opens, and is written as given."""
    if named == "xlsx" and actual == "xlsm":
        raise workbook_error("workbook_kind_mismatch", "the file is a macro-enabled workbook (.xlsm) under an "
                             ".xlsx name", "rename it to .xlsm (Excel refuses an .xlsx that holds macros)")
