"""Helpers for the feed tests: bulletins to order, and every validator a feed must pass."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
from lxml import etree

from syndicator.models.bulletin import Bulletin, CleanBulletin
from syndicator.models.text import slugify

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
CATEGORIES = ("Thi đua - Khen thưởng", "Chuyển đổi số", "Tổ chức bộ máy")


def bulletin(i: int, **over: Any) -> Bulletin:
    """A public bulletin numbered i (pure tests); later numbers are newer, none edited yet."""
    category = over.pop("category", CATEGORIES[i % len(CATEGORIES)])
    at = T0 + timedelta(hours=i)
    b = Bulletin(
        id=i, source_id=f"{1000 + i}", title=f"Thông báo số {i} về công tác năm 2026",
        summary=f"<p>Tóm tắt bản tin {i}: Sở Nội vụ hướng dẫn thực hiện.</p>",
        body_html=f"<p>Nội dung đầy đủ của bản tin {i}.</p><ul><li>Điểm một</li></ul>",
        author="Văn phòng Sở", category=category,
        category_slug=(over.pop("category_slug") if "category_slug" in over
                       else slugify(category) if category else None),
        url=f"https://sonoivu.backan.example/tin-tuc/{1000 + i}.html",
        published_at=at, first_seen_at=at + timedelta(minutes=5),
        changed_at=at + timedelta(minutes=5), revision=1, state="public",
        withdrawn_at=None, notify=True)
    return replace(b, **over)


def clean(i: int, **over: Any) -> CleanBulletin:
    """The same bulletin as ingest hands it to the state database."""
    b = bulletin(i)
    values = {"source_id": b.source_id, "title": b.title, "summary": b.summary,
              "body_html": b.body_html, "author": b.author, "category": b.category,
              "category_slug": b.category_slug, "url": b.url, "published_at": b.published_at,
              "source_updated_at": None, "status": "published"}
    values.update(over)
    if "category" in over:
        values["category_slug"] = slugify(over["category"]) if over["category"] else None
    return CleanBulletin(**values)


def _check_rss(root: etree._Element) -> None:
    """RSS 2.0 has no official schema: the rules of the specification that readers rely on."""
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), f"channel {required} is empty"
    assert channel.findtext("language") == "vi"
    parsedate_to_datetime(channel.findtext("lastBuildDate"))
    for item in channel.iter("item"):
        assert item.findtext("title") or item.findtext("description")
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false" and guid.text
        stamp = parsedate_to_datetime(item.findtext("pubDate"))
        assert stamp.utcoffset() is not None


@cache
def atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(DATA / "atom.rng")))


@cache
def json_feed_schema() -> dict[str, Any]:
    return json.loads((DATA / "jsonfeed-1.1.schema.json").read_text("utf-8"))


def assert_valid(name: str, data: bytes) -> Any:
    """Every check a feed file must pass; returns what feedparser read (the dict for JSON)."""
    ext = name.rsplit(".", 1)[1]
    if ext == "xsl":
        etree.XSLT(etree.fromstring(data))  # a stylesheet lxml (libxslt, as browsers) accepts
        return None
    if ext == "opml":
        root = etree.fromstring(data)
        assert root.tag == "opml" and root.get("version") == "2.0"
        return None
    if ext == "json":
        doc = json.loads(data.decode("utf-8"))
        jsonschema.validate(doc, json_feed_schema())
        assert len({i["id"] for i in doc["items"]}) == len(doc["items"]), "duplicate ids"
        return doc  # feedparser 6 does not read JSON Feed
    root = etree.fromstring(data)
    if ext == "atom":
        schema = atom_schema()
        assert schema.validate(root), f"{name}: {schema.error_log}"
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "vi"
    if ext == "rss":
        _check_rss(root)
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, f"{name}: {parsed.get('bozo_exception')}"
    assert parsed.version in {"atom10", "rss20"}, parsed.version
    return parsed
