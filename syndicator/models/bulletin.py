"""Bulletins as the program sees them: cleaned on the way in, stored, and known to ingest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class DocumentDetails:
    """An official document's particulars (số ký hiệu, ngày ban hành, cơ quan, loại)."""

    number: str | None = None  # "123/HD-SNV"
    issued_at: date | None = None
    issuer: str | None = None  # "Sở Nội vụ"
    type: str | None = None  # "Hướng dẫn"

    @property
    def given(self) -> bool:
        return any((self.number, self.issued_at, self.issuer, self.type))


@dataclass(frozen=True)
class Attachment:
    """A file attached to a bulletin: an absolute http(s) URL, what readers call it."""

    url: str
    title: str
    size: int | None = None  # bytes, when the portal knows
    type: str | None = None  # MIME type ("application/pdf")


def category_pairs(category: str | None, slug: str | None,
                   names: tuple[str, ...], slugs: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, slug) of every category of a bulletin, the first one first."""
    if names:
        return list(zip(names, slugs, strict=True))
    return [(category, slug)] if category and slug else []


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
    # Every category when the portal gives several (category/category_slug: the first one).
    categories: tuple[str, ...] = ()
    category_slugs: tuple[str, ...] = ()
    document: DocumentDetails | None = None
    attachments: tuple[Attachment, ...] = ()
    # aware UTC: its last correction in substance (docs/adr/018); set by the feeds' read only
    corrected_at: datetime | None = None

    @property
    def all_categories(self) -> list[tuple[str, str]]:
        """(name, slug) of each of its categories (the single-category case too)."""
        return category_pairs(self.category, self.category_slug, self.categories,
                              self.category_slugs)


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
    categories: tuple[str, ...] = ()  # set only when there are several
    category_slugs: tuple[str, ...] = ()
    document: DocumentDetails | None = None
    attachments: tuple[Attachment, ...] = ()

    @property
    def all_categories(self) -> list[tuple[str, str]]:
        return category_pairs(self.category, self.category_slug, self.categories,
                              self.category_slugs)

    @property
    def content_hash(self) -> str:
        """Changes exactly when what a reader sees changes."""
        data = asdict(self)
        for key in ("source_updated_at", "status"):
            data.pop(key)
        # Empty additions leave the hash of a bulletin stored before them unchanged.
        for key in ("categories", "category_slugs", "document", "attachments"):
            if not data[key]:
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
