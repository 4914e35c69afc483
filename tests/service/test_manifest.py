"""The Office add-in manifest: the elements the TaskPaneApp schema requires, in its order, and
URLs that point at files the service really serves."""
from __future__ import annotations

import io
import re
import uuid
from urllib.parse import urlparse

import defusedxml.ElementTree as ET
import pytest
from PIL import Image

from .support import REPO

NS = "{http://schemas.microsoft.com/office/appforoffice/1.1}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
MANIFEST = REPO / "addin_manifest" / "manifest.xml"
# OfficeApp's sequence, then TaskPaneApp's (Requirements, DefaultSettings, Permissions)
SCHEMA_ORDER = ["Id", "AlternateId", "Version", "ProviderName", "DefaultLocale", "DisplayName", "Description",
                "IconUrl", "HighResolutionIconUrl", "SupportUrl", "AppDomains", "Hosts", "Requirements",
                "DefaultSettings", "Permissions", "Dictionary", "VersionOverrides"]
REQUIRED = ["Id", "Version", "ProviderName", "DefaultLocale", "DisplayName", "Description", "IconUrl",
            "HighResolutionIconUrl", "SupportUrl", "AppDomains", "Hosts", "DefaultSettings", "Permissions"]


@pytest.fixture(scope="module")
def root():
    return ET.parse(MANIFEST).getroot()


def _local(tag: str) -> str:
    return tag.split("}", 1)[1]


def test_root_is_a_task_pane_app(root):
    assert root.tag == NS + "OfficeApp"
    assert root.get(XSI + "type") == "TaskPaneApp"


def test_required_elements_present_once_and_in_schema_order(root):
    children = [_local(child.tag) for child in root]
    for name in REQUIRED:
        assert children.count(name) == 1, f"{name} must appear exactly once"
    assert all(name in SCHEMA_ORDER for name in children), children
    positions = [SCHEMA_ORDER.index(name) for name in children]
    assert positions == sorted(positions), f"elements out of schema order: {children}"


def test_values(root):
    uuid.UUID(root.findtext(NS + "Id"))
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", root.findtext(NS + "Version"))
    assert root.findtext(NS + "DefaultLocale") == "en-US"
    assert root.find(NS + "DisplayName").get("DefaultValue")
    assert 0 < len(root.find(NS + "Description").get("DefaultValue")) <= 250   # the schema's limit
    assert [h.get("Name") for h in root.find(NS + "Hosts")] == ["Workbook"]
    assert root.findtext(NS + "Permissions") == "ReadWriteDocument"
    source = root.find(NS + "DefaultSettings").find(NS + "SourceLocation").get("DefaultValue")
    assert source == "https://localhost:8000/taskpane/"
    domains = [d.text for d in root.find(NS + "AppDomains")]
    assert "https://localhost:8000" in domains
    sets = root.find(NS + "Requirements").find(NS + "Sets")
    assert {(s.get("Name"), s.get("MinVersion")) for s in sets} == {("ExcelApi", "1.6")}   # conditionalFormats


@pytest.mark.parametrize("element, size", [("IconUrl", 32), ("HighResolutionIconUrl", 64)])
def test_icons_are_served_at_their_urls_with_the_right_size(root, client, element, size):
    url = urlparse(root.find(NS + element).get("DefaultValue"))
    assert url.scheme == "https" and url.netloc == "localhost:8000"
    response = client.get(url.path)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).size == (size, size)


def test_source_location_and_support_url_are_served(root, client):
    for element in ("SupportUrl",):
        assert client.get(urlparse(root.find(NS + element).get("DefaultValue")).path).status_code == 200
    source = root.find(NS + "DefaultSettings").find(NS + "SourceLocation").get("DefaultValue")
    page = client.get(urlparse(source).path)
    assert page.status_code == 200 and b"Format from words" in page.data
