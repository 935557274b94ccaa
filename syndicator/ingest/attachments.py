"""A bulletin's files and official-document details, cleaned from the portal's values."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

from syndicator.errors import RowError
from syndicator.ingest.sanitize import as_uri
from syndicator.models.bulletin import Attachment, DocumentDetails
from syndicator.models.text import one_line
from syndicator.source.values import as_text, parse_timestamp

MAX_ATTACHMENTS = 50  # files per bulletin shown; more are the portal's page's business
# mimetypes knows these on most systems, not on all: the office formats agencies send.
_TYPES = {".pdf": "application/pdf", ".doc": "application/msword",
          ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          ".xls": "application/vnd.ms-excel",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          ".zip": "application/zip", ".rar": "application/vnd.rar"}


def document(sid: str, values: Mapping[str, Any], tz: ZoneInfo) -> DocumentDetails | None:
    """The number, issue date, issuer and type, when the portal maps any of them."""
    issued = values.get("issued_at")
    details = DocumentDetails(
        number=_line(values.get("document_number")),
        issued_at=_date(sid, issued, tz) if issued not in (None, "") else None,
        issuer=_line(values.get("issuer")),
        type=_line(values.get("document_type")))
    return details if details.given else None


def attachments(sid: str, column: object, rows: Iterable[Mapping[str, Any]],
                base_url: str) -> tuple[Attachment, ...]:
    """Files from the attachments column (JSON array, or URLs one per line) and from the rows
    of source.attachments_query; relative URLs resolve against `base_url` (site.url)."""
    found = [*_from_column(column), *rows]
    out: dict[str, Attachment] = {}
    for raw in found[:MAX_ATTACHMENTS]:
        item = _attachment(sid, raw, base_url)
        if item is not None:
            out.setdefault(item.url, item)
    return tuple(out.values())


def _from_column(value: object) -> list[Mapping[str, Any]]:
    text = (as_text(value) or "").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not a JSON array: {exc.msg}") from None
        return [p if isinstance(p, dict) else {"url": p} for p in parsed]
    return [{"url": line} for line in text.splitlines() if line.strip()]


def _attachment(sid: str, raw: Mapping[str, Any], base_url: str) -> Attachment | None:
    url_text = _line(raw.get("url"))
    if not url_text:
        return None
    url = as_uri(urljoin(base_url, url_text))
    if urlsplit(url).scheme not in ("http", "https"):
        raise RowError(sid, "attachments", f"{url[:60]!r} is not an http(s) address",
                       reason="url")
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or url
    return Attachment(url=url, title=_line(raw.get("title")) or name,
                      size=_size(raw.get("size")), type=_type(raw.get("type"), url))


def _size(value: object) -> int | None:
    try:
        size = int(str(as_text(value) or "").strip())
    except ValueError:
        return None  # unknown: shown without a size, never a reason to skip the bulletin
    return size if size > 0 else None


def _type(value: object, url: str) -> str | None:
    given = _line(value)
    if given and "/" in given:
        return given.lower()
    ext = "." + urlsplit(url).path.rsplit(".", 1)[-1].lower() if "." in url else ""
    return _TYPES.get(ext) or mimetypes.guess_type(urlsplit(url).path)[0]


def _line(value: object) -> str | None:
    text = as_text(value)
    return (one_line(text) or None) if text is not None else None


def _date(sid: str, value: object, tz: ZoneInfo) -> Any:
    try:
        return parse_timestamp(value, tz).astimezone(tz).date()
    except ValueError as exc:
        raise RowError(sid, "issued_at", str(exc), reason="date") from None
