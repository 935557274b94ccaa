"""JSON Feed 1.1 bytes of a feed document, from a small typed model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from syndicator.feeds.model import Entry, FeedDocument
from syndicator.models.text import html_to_text, one_line

VERSION = "https://jsonfeed.org/version/1.1"


@dataclass(frozen=True)
class Author:
    name: str


@dataclass(frozen=True)
class Hub:
    type: str
    url: str


@dataclass(frozen=True)
class FileLink:
    url: str
    mime_type: str
    title: str | None = None
    size_in_bytes: int | None = None


@dataclass(frozen=True)
class Item:
    id: str
    url: str
    title: str
    content_html: str
    date_published: str
    date_modified: str
    summary: str | None = None
    authors: list[Author] | None = None
    tags: list[str] | None = None
    attachments: list[FileLink] | None = None
    _vn_document: dict[str, str] | None = None  # an extension object (JSON Feed 1.1, "_")


@dataclass(frozen=True)
class JsonFeed:
    title: str
    home_page_url: str
    feed_url: str
    description: str
    language: str
    authors: list[Author]
    items: list[Item]
    version: str = VERSION
    user_comment: str | None = None
    next_url: str | None = None  # pagination: the next older page (our RFC 5005 prev-archive)
    hubs: list[Hub] | None = None
    icon: str | None = None
    favicon: str | None = None


def json_bytes(doc: FeedDocument, feeds_url: str) -> bytes:
    feed = JsonFeed(
        title=doc.title, home_page_url=doc.home_url, feed_url=f"{feeds_url}/{doc.stem}.json",
        description=doc.subtitle, language=doc.language, authors=[Author(doc.author)],
        items=[_item(e) for e in doc.entries],
        next_url=f"{feeds_url}/{doc.prev_archive}.json" if doc.prev_archive else None,
        hubs=[Hub("WebSub", doc.hub)] if doc.hub else None,
        user_comment=doc.reader_note or None, icon=doc.icon, favicon=doc.icon,
    )
    data = asdict(feed)
    data = {"version": data.pop("version"), **data}  # first, as every JSON Feed shows it
    text = json.dumps(_compact(data), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def _item(e: Entry) -> Item:
    # content_html is required when content_text is absent; the summary stands in for a body.
    content = e.content_html or e.summary_html or ""
    summary = one_line(html_to_text(e.summary_html)) if e.summary_html else None
    return Item(
        id=e.id, url=e.url, title=e.title, content_html=content,
        date_published=_date(e.published), date_modified=_date(e.updated),
        summary=summary or None, authors=[Author(e.author)] if e.author else None,
        tags=[n for n, _slug in e.categories] or ([e.category] if e.category else None),
        attachments=[FileLink(a.url, a.type or "application/octet-stream", a.title, a.size)
                     for a in e.attachments] or None,
        _vn_document=_document(e),
    )


def _document(e: Entry) -> dict[str, str] | None:
    """number, issued_at (ISO date), issuer, type: those the portal gives."""
    doc = e.document
    if doc is None:
        return None
    values = {"number": doc.number, "issued_at": doc.issued_at and doc.issued_at.isoformat(),
              "issuer": doc.issuer, "type": doc.type}
    return {k: v for k, v in values.items() if v} or None


def _date(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _compact(value: Any) -> Any:
    """Drops absent optional members: JSON Feed readers treat null and absent differently."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value
