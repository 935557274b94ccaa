"""index.opml: every feed we write, grouped by format, for importing into a reader."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from syndicator.feeds.paging import Scope

# (extension, group label, outline attributes). OPML 2.0 defines type="rss" with version
# "RSS" (0.9x and 2.0), "RSS1" or "scriptingNews"; Atom and JSON Feed have no defined type,
# so they carry their own names and no version (a reader that imports only type="rss"
# takes the RSS group, each feed once).
_FORMATS = (("atom", "Atom 1.0", {"type": "atom"}),
            ("rss", "RSS 2.0", {"type": "rss", "version": "RSS"}),
            ("json", "JSON Feed 1.1", {"type": "json"}))


def opml_bytes(title: str, scopes: Sequence[Scope], feeds_url: str, home_url: str) -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for ext, label, kind in _FORMATS:
        group = ET.SubElement(body, "outline", text=label, title=label)
        for s in scopes:
            ET.SubElement(group, "outline", kind, text=s.title, title=s.title,
                          xmlUrl=f"{feeds_url}/{s.stem}.{ext}", htmlUrl=home_url)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
