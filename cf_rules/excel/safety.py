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
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

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


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """Decompress one entry, stopping as soon as it passes `budget` bytes (sizes in the zip
    directory can lie)."""
    chunks, total = [], 0
    with zf.open(info) as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > budget:
                raise workbook_error("workbook_zip_bomb", f"{info.filename} expands past the size limit",
                                     "this file decompresses to far more data than a workbook holds")
            chunks.append(chunk)
    return b"".join(chunks)


def check_workbook(data: bytes, *, max_bytes: int = MAX_BYTES, max_uncompressed: int = MAX_UNCOMPRESSED,
                   max_ratio: float = MAX_RATIO, max_parts: int = MAX_PARTS) -> WorkbookInfo:
    """Raise WorkbookError unless `data` is a plain, unencrypted, sane .xlsx/.xlsm package."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise workbook_error("workbook_empty", "the workbook is empty", "upload an .xlsx or .xlsm file")
    data = bytes(data)
    if len(data) > max_bytes:
        raise workbook_error("workbook_too_large", f"the workbook is {len(data) / 1e6:.1f} MB",
                             f"the limit is {max_bytes / 1e6:.1f} MB; remove unused sheets or images")
    if not data.startswith(ZIP_MAGICS):
        raise _sniff_non_zip(data)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise workbook_error("workbook_corrupt", f"the workbook's zip structure is damaged ({exc})",
                             "the upload may be truncated; upload the file again or re-save it in Excel")
    with zf:
        if len(infos) > max_parts:
            raise workbook_error("workbook_too_many_parts", f"the package has {len(infos)} parts",
                                 f"a workbook has far fewer; the limit is {max_parts}")
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
        compressed = sum(info.compress_size for info in infos)
        if declared > max_uncompressed:
            raise workbook_error("workbook_zip_bomb", f"the workbook expands to {declared / 1e6:.0f} MB",
                                 f"the limit is {max_uncompressed / 1e6:.0f} MB")
        for info in infos:
            if info.file_size > 1_000_000 and info.file_size > max_ratio * max(info.compress_size, 1):
                raise workbook_error("workbook_zip_bomb", f"{info.filename} is compressed "
                                     f"{info.file_size / max(info.compress_size, 1):.0f}:1",
                                     f"ratios above {max_ratio:g}:1 are refused as a zip bomb")
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

        budget = max_uncompressed
        for info in infos:
            lower = info.filename.lower()
            if not lower.endswith(_XML_SUFFIXES + _MARKUP_SUFFIXES):
                continue
            try:
                content = _read_capped(zf, info, budget)
            except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
                raise workbook_error("workbook_corrupt", f"{info.filename} cannot be decompressed ({exc})",
                                     "the upload may be truncated; upload it again")
            budget -= len(content)
            _check_xml(info.filename, content)
        # the non-XML parts (images, vbaProject.bin, ...) are only checked for a valid CRC
        for info in infos:
            if not info.filename.lower().endswith(_XML_SUFFIXES + _MARKUP_SUFFIXES):
                try:
                    budget -= len(_read_capped(zf, info, budget))
                except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
                    raise workbook_error("workbook_corrupt", f"{info.filename} cannot be decompressed ({exc})",
                                         "the upload may be truncated; upload it again")
        if max_uncompressed - budget > max_ratio * max(compressed, 1) and max_uncompressed - budget > 1_000_000:
            raise workbook_error("workbook_zip_bomb", "the workbook's compression ratio is implausible",
                                 f"ratios above {max_ratio:g}:1 are refused")
        content_types = zf.read("[Content_Types].xml")
    kind = "xlsm" if b"macroEnabled" in content_types else "xlsx"
    return WorkbookInfo(kind, tuple(info.filename for info in infos), len(data), max_uncompressed - budget)


def _check_xml(name: str, content: bytes) -> None:
    if re.search(rb"<!(DOCTYPE|ENTITY)", content[:4096], re.I) or re.search(
            rb"<\x00!\x00(D\x00O\x00C|E\x00N\x00T)", content[:8192]):
        raise workbook_error("workbook_xml_entities", f"{name} declares a DTD or entities",
                             "Excel never writes these; they are refused as a possible entity bomb")
    if not name.lower().endswith(_XML_SUFFIXES):
        if re.search(rb"<!(DOCTYPE|ENTITY)", content, re.I):
            raise workbook_error("workbook_xml_entities", f"{name} declares a DTD or entities",
                                 "Excel never writes these; they are refused as a possible entity bomb")
        return
    try:
        SafeET.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise workbook_error("workbook_xml_entities", f"{name} declares a DTD or entities",
                             "Excel never writes these; they are refused as a possible entity bomb")
    except SafeET.ParseError as exc:
        raise workbook_error("workbook_corrupt", f"{name} is not well-formed XML ({exc})",
                             "re-save the workbook in Excel")
