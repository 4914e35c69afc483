import io
import zipfile

import pytest

from cf_rules.errors import WorkbookError
from cf_rules.excel.safety import OLE2_MAGIC, check_workbook
from tests.fixtures.workbooks import build_rich_xlsx, build_xlsm


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    return build_rich_xlsx(tmp_path_factory.mktemp("safety")).read_bytes()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def package(files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def refused(data, **limits) -> WorkbookError:
    with pytest.raises(WorkbookError) as info:
        check_workbook(data, **limits)
    err = info.value
    assert err.message and err.hint, "every refusal says what and how to fix"
    assert err.to_dict()["code"] == err.code
    return err


def test_good_workbooks_pass(rich, tmp_path):
    info = check_workbook(rich)
    assert info.kind == "xlsx" and "xl/workbook.xml" in info.parts and info.uncompressed_bytes > len(rich)
    assert check_workbook(build_xlsm(tmp_path).read_bytes()).kind == "xlsm"


@pytest.mark.parametrize("data, code, words", [
    (b"", "workbook_empty", "empty"),
    (b"Region,Units\nNorth,5\nSouth,7\n", "workbook_not_ooxml", "CSV"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "workbook_not_ooxml", "PDF"),
    (b"<html><body><table></table></body></html>", "workbook_not_ooxml", "HTML"),
    (b"\x00\x01\x02\x03binary junk", "workbook_not_ooxml", "not a zip"),
    (OLE2_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 64, "workbook_legacy_xls", ".xls"),
    (OLE2_MAGIC + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 8
     + "EncryptedPackage".encode("utf-16-le"), "workbook_encrypted", "password"),
])
def test_files_that_are_not_plain_ooxml(data, code, words):
    err = refused(data)
    assert err.code == code
    assert words in err.message + err.hint


def test_truncated_zip(rich):
    err = refused(rich[: len(rich) // 2])
    assert err.code == "workbook_corrupt" and "truncated" in err.hint


def test_other_office_documents(rich):
    assert "Word" in refused(package({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<d/>"})).message
    assert refused(package({"mimetype": b"x", "content.xml": b"<c/>"})).code == "workbook_not_ooxml"


def test_zip_bomb_by_ratio():
    files = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
             "xl/media/blob.bin": b"\x00" * 20_000_000}
    err = refused(package(files))
    assert err.code == "workbook_zip_bomb"


def test_zip_bomb_by_total_size(rich):
    files = parts(rich)
    files["xl/media/big.bin"] = bytes(range(256)) * 8000      # 2 MB, incompressible enough
    assert refused(package(files), max_uncompressed=1_000_000).code == "workbook_zip_bomb"


def test_declared_sizes_that_lie_are_caught_while_reading(rich):
    """A central directory can understate sizes; decompression is capped regardless."""
    files = parts(rich)
    files["xl/worksheets/sheet9.xml"] = b"<a>" + b" " * 3_000_000 + b"</a>"
    data = bytearray(package(files))
    # shrink the declared uncompressed size of sheet9 in the central directory record
    name = b"xl/worksheets/sheet9.xml"
    at = data.rindex(name) - 46                      # start of its central directory header
    assert data[at:at + 4] == b"PK\x01\x02"
    data[at + 24:at + 28] = (10).to_bytes(4, "little")
    err = refused(bytes(data), max_uncompressed=2_000_000)
    assert err.code in ("workbook_zip_bomb", "workbook_corrupt")


def test_too_many_parts(rich):
    files = parts(rich)
    files.update({f"xl/extra/p{i}.txt": b"x" for i in range(60)})
    assert refused(package(files), max_parts=50).code == "workbook_too_many_parts"


def test_too_large(rich):
    assert refused(rich, max_bytes=1000).code == "workbook_too_large"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol3;</workbook>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&x;</t></si></sst>"""


@pytest.mark.parametrize("part, payload", [
    ("xl/workbook.xml", BILLION_LAUGHS),
    ("xl/sharedStrings.xml", EXTERNAL_ENTITY),
    ("xl/drawings/commentsDrawing1.vml", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>"),
    ("xl/worksheets/sheet1.xml", BILLION_LAUGHS.decode().encode("utf-16")),
])
def test_xml_entity_bombs_and_dtds(rich, part, payload):
    files = parts(rich)
    files[part] = payload
    assert refused(package(files)).code == "workbook_xml_entities"


def test_malformed_xml_part(rich):
    files = parts(rich)
    files["xl/styles.xml"] = b"<styleSheet><fonts></styleSheet>"
    err = refused(package(files))
    assert err.code == "workbook_corrupt" and "xl/styles.xml" in err.message


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/evil.xml", "xl/../../evil.xml", "C:/evil.xml",
                                  "xl\\worksheets\\evil.xml"])
def test_path_traversal_names(rich, name):
    files = parts(rich)
    files[name] = b"<x/>"
    err = refused(package(files))
    assert err.code == "workbook_unsafe_path" and repr(name) in err.message


def test_duplicate_part_names(rich):
    buffer = io.BytesIO(rich)
    with zipfile.ZipFile(buffer, "a") as zf:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zf.writestr("xl/workbook.xml", b"<workbook/>")
    assert refused(buffer.getvalue()).code == "workbook_unsafe_path"


def test_encrypted_zip_entries(rich):
    data = bytearray(rich)
    at = data.index(b"PK\x01\x02")                   # first central directory header: set the encrypted flag
    data[at + 8] |= 0x1
    assert refused(bytes(data)).code in ("workbook_encrypted", "workbook_corrupt")
