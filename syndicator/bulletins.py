"""The bulletin read model shared by feeds, digests and pages (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Bulletin:
    """A cleaned bulletin as stored by ingest; text is NFC and HTML is sanitised."""

    id: int
    source_id: str
    title: str
    summary: str | None  # sanitised HTML
    body_html: str | None  # sanitised HTML, absolute links
    author: str | None
    category: str | None
    category_slug: str | None
    url: str
    published_at: datetime  # aware UTC
    first_seen_at: datetime  # aware UTC: decides which digest a bulletin belongs to
    changed_at: datetime  # aware UTC: last change of what a reader sees (feed `updated`)
    revision: int
    state: str  # "public" | "withdrawn"
    withdrawn_at: datetime | None
    notify: bool  # False: too old when first seen; goes to feeds, not to mail
    source_updated_at: datetime | None = None  # aware UTC: the portal's, as we first read it
