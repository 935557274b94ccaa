"""Turns one raw portal row into a cleaned bulletin, or a RowError naming the bad field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from syndicator.errors import RowError
from syndicator.ingest import attachments as files
from syndicator.ingest.sanitize import as_uri, sanitize_html
from syndicator.models.bulletin import CleanBulletin
from syndicator.models.text import category_key, clean_text, one_line, slugify
from syndicator.source.portal import FILES, SourceRow
from syndicator.source.values import as_text, parse_timestamp, status_text

MAX_CATEGORY = 191  # the state column's length; longer names are refused, never cut
MAX_SOURCE_ID = 191  # likewise: bulletins.source_id
T = TypeVar("T")


def clean_row(row: SourceRow, tz: ZoneInfo, site_url: str,
              separator: str | None = None) -> CleanBulletin:
    """Clean every string before anything else sees it; RowError names the first bad field.

    `separator` (source.category_separator) splits the category value into several."""
    v = row.values
    sid = _source_id(row)
    url = _field(sid, "url", lambda: _url(sid, as_text(v.get("url")), site_url))
    names = _field(sid, "category", lambda: _categories(sid, v.get("category"), separator))
    category = names[0] if names else None
    return CleanBulletin(
        source_id=sid,
        title=_field(sid, "title", lambda: _required_line(sid, "title", v.get("title"))),
        summary=_field(sid, "summary", lambda: _html(v.get("summary"), url)),
        body_html=_field(sid, "body_html", lambda: _html(v.get("body_html"), url)),
        author=_field(sid, "author", lambda: _optional_line(v.get("author"))),
        category=category,
        category_slug=slugify(category) if category else None,
        url=url,
        published_at=_timestamp(sid, "published_at", v.get("published_at"), tz),
        source_updated_at=(_timestamp(sid, "updated_at", v["updated_at"], tz)
                           if v.get("updated_at") not in (None, "") else None),
        status=_field(sid, "status", lambda: status_text(v.get("status"))),
        categories=tuple(names) if len(names) > 1 else (),
        category_slugs=tuple(slugify(n) for n in names) if len(names) > 1 else (),
        document=_field(sid, "document_number", lambda: files.document(sid, v, tz)),
        attachments=_field(sid, "attachments", lambda: files.attachments(
            sid, v.get("attachments"), v.get(FILES) or (), site_url)),
    )


def _categories(sid: str, value: object, separator: str | None) -> list[str]:
    """Its categories, in the portal's order, each once (by category_key)."""
    text = as_text(value)
    if text is None:
        return []
    parts = text.split(separator) if separator else [text]
    names: dict[str, str] = {}
    for part in parts:
        name = _category(sid, part)
        if name:
            names.setdefault(category_key(name), name)
    return list(names.values())


def _field(sid: str, field: str, read: Callable[[], T]) -> T:
    """One field's value; a value that is not text in its encoding names its field."""
    try:
        return read()
    except RowError:
        raise
    except ValueError as exc:
        raise RowError(sid, field, str(exc), reason="encoding") from None


def _category(sid: str, value: object) -> str | None:
    category = _optional_line(value)
    if category and len(category) > MAX_CATEGORY:
        raise RowError(sid, "category", f"longer than {MAX_CATEGORY} characters",
                       reason="too_long")
    return category


def _source_id(row: SourceRow) -> str:
    """Already normalised by the source; refused here, before the database would fail the poll."""
    if not row.source_id:  # named by the portal's spelling: blanks or control characters
        raise RowError(row.key, "id", "is empty", reason="id")
    if len(row.source_id) > MAX_SOURCE_ID:
        raise RowError(row.source_id, "id", f"longer than {MAX_SOURCE_ID} characters",
                       reason="id")
    return row.source_id


def _required_line(sid: str, field: str, value: object) -> str:
    text = _optional_line(value)
    if not text:
        raise RowError(sid, field, "is empty", reason="empty")
    return text


def _optional_line(value: object) -> str | None:
    text = as_text(value)
    return (one_line(text) or None) if text is not None else None


def _html(value: object, base_url: str) -> str | None:
    text = as_text(value)
    if text is None or not text.strip():
        return None
    return sanitize_html(clean_text(text), base_url) or None


def _url(sid: str, value: str | None, site_url: str) -> str:
    if not value or not value.strip():
        raise RowError(sid, "url", "is empty", reason="empty")
    url = as_uri(urljoin(site_url, one_line(value)))
    if urlsplit(url).scheme not in ("http", "https"):
        raise RowError(sid, "url", f"{url[:60]!r} is not an http(s) address", reason="url")
    return url


def _timestamp(sid: str, field: str, value: object, tz: ZoneInfo) -> datetime:
    if value is None or value == "":
        raise RowError(sid, field, "is empty", reason="empty")
    try:
        return parse_timestamp(value, tz)
    except ValueError as exc:
        raise RowError(sid, field, str(exc), reason="date") from None
