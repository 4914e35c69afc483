"""Checks an uploaded workbook must pass before anything opens it.

`check_workbook(data)` looks only at bytes, the zip directory and (with defusedxml) the XML
parts; it never hands the file to openpyxl. It refuses, each with a stable `code`, a message
and a hint (`WorkbookError.to_dict()`):

    workbook_empty            no bytes
    workbook_too_large        more than max_bytes compressed
    workbook_encrypted        password-protected: an OLE2 container holding EncryptionInfo /
                              EncryptedPackage, or zip entries with the encryption flag
    workbook_legacy_xls       an Excel 97-2003 .xls (OLE2 without encryption streams)
    workbook_not_ooxml        PDF, CSV/text, HTML, another Office format (.docx/.pptx), any non-zip
    workbook_corrupt          truncated or damaged zip, a part that is not well-formed XML
    workbook_too_many_parts   more than max_parts entries
    workbook_unsafe_path      absolute, '..', backslash or drive-letter entry names; duplicates
    workbook_zip_bomb         declared or actual uncompressed size over max_uncompressed, or a
                              compression ratio over max_ratio
    workbook_xml_entities     a DOCTYPE / entity declaration in any XML part (billion laughs,
                              external entities)

WorkbookError's class code is "workbook_error"; each instance here carries its own `code`.

Memory stays flat whatever the part sizes: every XML part is streamed through expat in 1 MB
chunks (`XmlStream`), never built into a tree, and entries are decompressed a chunk at a time.
`check_package` and `check_parts` are the two halves of `check_workbook`, for a caller (the
workbook writer) that parses some parts itself and should not parse them twice.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

from ..errors import WorkbookError

MAX_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_RATIO = 200
MAX_PARTS = 5000

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_XML_SUFFIXES = (".xml", ".rels")
_MARKUP_SUFFIXES = (".vml",)    # legacy VML is not always well-formed XML: scanned, not parsed


def workbook_error(code: str, message: str, hint: str) -> WorkbookError:
    err = WorkbookError(message, hint=hint)
    err.code = code
    return err


@dataclass(frozen=True)
class WorkbookInfo:
    kind: str                 # "xlsx" | "xlsm"
    parts: tuple[str, ...]
    compressed_bytes: int
    uncompressed_bytes: int


def _sniff_non_zip(data: bytes) -> WorkbookError:
    if data.startswith(OLE2_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            return workbook_error("workbook_encrypted", "the workbook is password-protected (encrypted)",
                                  "open it in Excel, remove the password (File > Info > Protect Workbook > "
                                  "Encrypt with Password) and save it again")
        return workbook_error("workbook_legacy_xls", "this is an Excel 97-2003 (.xls) or other OLE2 file, "
                              "not an .xlsx/.xlsm file", "open it in Excel and save as 'Excel Workbook (.xlsx)'")
    head = data[:2048]
    if head.startswith(b"%PDF"):
        what = "a PDF document"
    elif re.match(rb"\s*<(!doctype html|html)", head, re.I):
        what = "an HTML page"
    elif head.lstrip().startswith(b"<?xml") or head.lstrip().startswith(b"<"):
        what = "an XML/text file (perhaps 'XML Spreadsheet 2003')"
    elif _looks_like_text(head):
        what = "CSV or plain text" if re.search(rb"[,;\t]", head) else "plain text"
    else:
        what = "not a zip package"
    return workbook_error("workbook_not_ooxml", f"not an .xlsx/.xlsm file: it looks like {what}",
                          "open it in Excel and save as 'Excel Workbook (.xlsx)'")


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            head[:-3].decode("utf-8")     # a multi-byte character cut at the end
        except UnicodeDecodeError:
            return False
    return b"\x00" not in head


def _unsafe_name(name: str) -> bool:
    return (name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or re.match(r"[A-Za-z]:", name) is not None
            or any(piece == ".." for piece in name.split("/")))


CHUNK = 1 << 20


def iter_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int):
    """Decompressed chunks of one entry, stopping as soon as they pass `budget` bytes (sizes in
    the zip directory can lie); a damaged entry is a workbook_corrupt error."""
    total = 0
    try:
        with zf.open(info) as handle:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    return
                total += len(chunk)
                if total > budget:
                    raise workbook_error("workbook_zip_bomb", f"{info.filename} expands past the size limit",
                                         "this file decompresses to far more data than a workbook holds")
                yield chunk
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, zipfile.LargeZipFile) as exc:
        raise workbook_error("workbook_corrupt", f"{info.filename} cannot be decompressed ({exc})",
                             "the upload may be truncated; upload it again")


def read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    return b"".join(iter_entry(zf, info, budget))


class XmlStream:
    """One XML part fed through expat in chunks: well-formedness and the refusal of DTDs and
    entity declarations, with no tree built. Subclasses add element handlers; `byte_index` is
    the offset of the current event in the part's bytes."""

    def __init__(self, name: str):
        self.name = name
        self.parser = expat.ParserCreate()
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartDoctypeDeclHandler = self._refuse_dtd
        self.parser.EntityDeclHandler = self._refuse_dtd
        self.parser.ExternalEntityRefHandler = self._refuse_dtd
        self.size = 0

    @property
    def byte_index(self) -> int:
        return self.parser.CurrentByteIndex

    def _refuse_dtd(self, *args):
        raise workbook_error("workbook_xml_entities", f"{self.name} declares a DTD or entities",
                             "Excel never writes these; they are refused as a possible entity bomb")

    def feed(self, chunk: bytes, final: bool = False) -> None:
        self.size += len(chunk)
        try:
            self.parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            raise workbook_error("workbook_corrupt", f"{self.name} is not well-formed XML "
                                 f"({expat.ErrorString(exc.code)}: line {exc.lineno}, column {exc.offset})",
                                 "re-save the workbook in Excel")

    def run(self, chunks) -> "XmlStream":
        for chunk in chunks:
            self.feed(chunk)
        self.feed(b"", True)
        return self


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_uncompressed: int = MAX_UNCOMPRESSED
    max_ratio: float = MAX_RATIO
    max_parts: int = MAX_PARTS


def check_workbook(data: bytes, *, max_bytes: int = MAX_BYTES, max_uncompressed: int = MAX_UNCOMPRESSED,
                   max_ratio: float = MAX_RATIO, max_parts: int = MAX_PARTS) -> WorkbookInfo:
    """Raise WorkbookError unless `data` is a plain, unencrypted, sane .xlsx/.xlsm package."""
    limits = Limits(max_bytes, max_uncompressed, max_ratio, max_parts)
    zf, kind = check_package(data, limits)
    with zf:
        expanded = check_parts(zf, limits)
    return WorkbookInfo(kind, tuple(info.filename for info in zf.infolist()), len(data), expanded)


def check_package(data: bytes, limits: Limits = Limits()) -> tuple[zipfile.ZipFile, str]:
    """The zip-level checks (no part is parsed): an open ZipFile and the kind, "xlsx" or "xlsm"."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise workbook_error("workbook_empty", "the workbook is empty", "upload an .xlsx or .xlsm file")
    if len(data) > limits.max_bytes:
        raise workbook_error("workbook_too_large", f"the workbook is {len(data) / 1e6:.1f} MB",
                             f"the limit is {limits.max_bytes / 1e6:.1f} MB; remove unused sheets or images")
    if not bytes(data[:4]).startswith(ZIP_MAGICS):
        raise _sniff_non_zip(bytes(data))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise workbook_error("workbook_corrupt", f"the workbook's zip structure is damaged ({exc})",
                             "the upload may be truncated; upload the file again or re-save it in Excel")
    try:
        _check_directory(infos, limits)
        content_types = read_entry(zf, zf.getinfo("[Content_Types].xml"), limits.max_uncompressed)
    except BaseException:
        zf.close()
        raise
    return zf, "xlsm" if b"macroEnabled" in content_types else "xlsx"


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_parts:
        raise workbook_error("workbook_too_many_parts", f"the package has {len(infos)} parts",
                             f"a workbook has far fewer; the limit is {limits.max_parts}")
    names = set()
    for info in infos:
        if _unsafe_name(info.filename):
            raise workbook_error("workbook_unsafe_path", f"the package holds an unsafe part name {info.filename!r}",
                                 "this is not a file Excel writes; re-save the workbook in Excel")
        if info.filename in names:
            raise workbook_error("workbook_unsafe_path", f"the part {info.filename!r} appears twice",
                                 "re-save the workbook in Excel")
        names.add(info.filename)
        if info.flag_bits & 0x1:
            raise workbook_error("workbook_encrypted", f"the part {info.filename!r} is encrypted",
                                 "remove the password and save the workbook again")
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed:
        raise workbook_error("workbook_zip_bomb", f"the workbook expands to {declared / 1e6:.0f} MB",
                             f"the limit is {limits.max_uncompressed / 1e6:.0f} MB")
    for info in infos:
        if info.file_size > 1_000_000 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise workbook_error("workbook_zip_bomb", f"{info.filename} is compressed "
                                 f"{info.file_size / max(info.compress_size, 1):.0f}:1",
                                 f"ratios above {limits.max_ratio:g}:1 are refused as a zip bomb")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            what = "a Word document"
        elif any(n.startswith("ppt/") for n in names):
            what = "a PowerPoint presentation"
        elif "content.xml" in names:
            what = "an OpenDocument file"
        else:
            what = "a zip file without a workbook"
        raise workbook_error("workbook_not_ooxml", f"not an .xlsx/.xlsm file: it is {what}",
                             "upload an Excel workbook (.xlsx or .xlsm)")


def is_xml_part(name: str) -> bool:
    return name.lower().endswith(_XML_SUFFIXES)


def check_parts(zf: zipfile.ZipFile, limits: Limits = Limits(), *, parsed_by_caller=frozenset()) -> int:
    """Decompress every entry (CRC and real sizes) and stream each XML part through expat, except
    the parts in `parsed_by_caller`, which the caller reads itself (with `iter_entry`, so under a
    size cap) and streams through an `XmlStream`. Returns the bytes the package expands to."""
    infos = zf.infolist()
    compressed = sum(info.compress_size for info in infos)
    budget = limits.max_uncompressed
    # XML parts first: a bad one is reported as such rather than as a damaged image
    ordered = sorted(infos, key=lambda info: not info.filename.lower().endswith(_XML_SUFFIXES + _MARKUP_SUFFIXES))
    for info in ordered:
        lower = info.filename.lower()
        if info.filename in parsed_by_caller:
            budget -= info.file_size     # the caller reads it under the same cap
            continue
        chunks = iter_entry(zf, info, budget)
        if lower.endswith(_XML_SUFFIXES):
            budget -= XmlStream(info.filename).run(chunks).size
        elif lower.endswith(_MARKUP_SUFFIXES):
            content = b"".join(chunks)     # legacy VML is not always well-formed XML: scanned, not parsed
            budget -= len(content)
            if re.search(rb"<!(DOCTYPE|ENTITY)", content, re.I):
                raise workbook_error("workbook_xml_entities", f"{info.filename} declares a DTD or entities",
                                     "Excel never writes these; they are refused as a possible entity bomb")
        else:
            budget -= sum(len(chunk) for chunk in chunks)
    expanded = limits.max_uncompressed - budget
    if expanded > limits.max_ratio * max(compressed, 1) and expanded > 1_000_000:
        raise workbook_error("workbook_zip_bomb", "the workbook's compression ratio is implausible",
                             f"ratios above {limits.max_ratio:g}:1 are refused")
    return expanded
