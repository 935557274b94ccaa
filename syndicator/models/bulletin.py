"""Bulletins as the program sees them: cleaned on the way in, stored, and known to ingest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
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
    # aware UTC: its last correction in substance (docs/adr/018); set by the feeds' read only
    corrected_at: datetime | None = None


@dataclass(frozen=True)
class CleanBulletin:
    """A bulletin as the rest of the program sees it: NFC, sanitised, timestamps in UTC."""

    source_id: str
    title: str
    summary: str | None
    body_html: str | None
    author: str | None
    category: str | None
    category_slug: str | None
    url: str
    published_at: datetime
    source_updated_at: datetime | None
    status: str

    @property
    def content_hash(self) -> str:
        """Changes exactly when what a reader sees changes."""
        data = asdict(self)
        for key in ("source_updated_at", "status"):
            data.pop(key)
        blob = json.dumps(data, default=str, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Known:
    """What the poll needs to know about a bulletin we already hold."""

    id: int
    source_id: str
    content_hash: str
    state: str
    published_at: datetime
    source_updated_at: datetime | None
    source_key: str | None = None

    @property
    def key(self) -> str:
        """The portal's own spelling of the id, to ask the portal for this row."""
        return self.source_id if self.source_key is None else self.source_key
