"""The format-neutral feed document and how a bulletin becomes an entry (pure, no I/O)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from urllib.parse import quote, urlsplit

import nh3

from syndicator.models.bulletin import Attachment, Bulletin, DocumentDetails
from syndicator.models.text import clean_text, one_line

# The `updated` of a document with nothing in it: fixed, so an empty feed never churns.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# The date of every entry id: a constant, not when we first saw the bulletin, so that a
# re-ingest into a fresh state database gives the same ids (ADR 002). Never change it.
TAG_DATE = "2026-01-01"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005 archives, in every format
GENERATOR = "syndicator"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    url: str
    published: datetime
    updated: datetime
    author: str | None
    category: str | None
    category_slug: str | None
    summary_html: str | None
    content_html: str | None
    categories: tuple[tuple[str, str], ...] = ()  # (name, slug) of each; the first above
    document: DocumentDetails | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class ContentCap:
    """How much of a bulletin's text an entry carries (0: all), and the words of the link
    to the full text that ends a cut one."""

    max_bytes: int = 0
    more: str = ""
    download: str = ""  # the words before the list of files ("Tải về")
    # Atop a corrected bulletin's text ("Đính chính ngày {date}: ..."; docs/adr/018).
    corrected: str = ""


@dataclass(frozen=True)
class Tombstone:
    """An RFC 6721 deleted-entry marker: `ref` is the withdrawn entry's id."""

    ref: str
    when: datetime


@dataclass(frozen=True)
class FeedDocument:
    """One document of a feed, the same for every format; URLs are built by the renderers."""

    stem: str  # file name without extension: "all", "<slug>", "<slug>.archive-3"
    scope_stem: str  # the subscription document's stem (the same for its archives)
    feed_id: str
    title: str
    subtitle: str
    home_url: str
    author: str
    language: str
    updated: datetime
    entries: tuple[Entry, ...]
    tombstones: tuple[Tombstone, ...] = ()
    archive: bool = False  # RFC 5005 fh:archive: a page of older entries
    prev_archive: str | None = None  # stem of the next older archive page
    next_archive: str | None = None  # stem of the next newer page (the newest: the feed's own)
    hub: str | None = None  # WebSub hub URL
    reader_note: str = ""  # for a person who opens the raw document (JSON Feed user_comment)
    icon: str | None = None  # square image URL (site.icon)
    logo: str | None = None  # wide image URL (site.logo)
    stylesheet: str | None = None  # XSLT href for Atom and RSS, relative to the document


def entry_id(host: str, b: Bulletin) -> str:
    """tag: URI (RFC 4151) from what never changes: our host, TAG_DATE, the portal's id."""
    return f"tag:{host},{TAG_DATE}:bulletin/{quote(clean_text(b.source_id), safe='')}"


def host_of(public_base_url: str) -> str:
    return (urlsplit(public_base_url).hostname or "localhost").lower()


def to_entry(host: str, b: Bulletin, zone: tzinfo = UTC,
             cap: ContentCap = ContentCap()) -> Entry:
    """Every string is cleaned again here: a feed must stay valid whatever reached the database.
    Times are shown in the publisher's zone (+07:00): readers show them as local time."""
    content = _with_files(_capped(_html(b.body_html), one_line(b.url), cap), b.attachments,
                          cap.download)
    return Entry(
        id=entry_id(host, b),
        title=one_line(b.title) or one_line(b.source_id) or str(b.id),
        url=one_line(b.url),
        published=local(b.published_at, zone),
        updated=local(shown_updated(b), zone),
        author=_line(b.author),
        category=_line(b.category),
        category_slug=b.category_slug,
        summary_html=_noted(_html(b.summary), b, zone, cap) if content is None
        else _html(b.summary),
        content_html=_noted(content, b, zone, cap),
        categories=tuple((one_line(n), s) for n, s in b.all_categories if one_line(n)),
        document=b.document,
        attachments=b.attachments,
    )


def _with_files(content: str | None, files: tuple[Attachment, ...], label: str) -> str | None:
    """The text, then a link to each file: RSS carries one enclosure, readers show links."""
    if not files:
        return content
    links = "".join(f'<li><a href="{html.escape(a.url)}">{html.escape(one_line(a.title))}</a>'
                    "</li>" for a in files)
    return f"{content or ''}<p>{html.escape(label)}:</p><ul>{links}</ul>"


def _noted(content: str | None, b: Bulletin, zone: tzinfo, cap: ContentCap) -> str | None:
    """A corrected bulletin's text begins with a visible note saying so, and when."""
    if b.corrected_at is None or not cap.corrected or content is None:
        return content
    note = cap.corrected.format(date=f"{b.corrected_at.astimezone(zone):%d/%m/%Y}")
    return f"<p><strong>{html.escape(note)}</strong></p>{content}"


def shown_updated(b: Bulletin) -> datetime:
    """When what a reader sees last changed: ours after a change, else the portal's stamp.

    Our changed_at of a bulletin never changed since we first saw it is only that sighting
    (for a first import: the import time of every bulletin), so revision 1 shows the
    portal's updated_at, or published_at when the portal has none.
    """
    if b.revision > 1:
        return max(b.changed_at, b.published_at)
    portal = b.source_updated_at
    if portal is None:
        return b.published_at
    # The row we read was not modified after we read it: a later stamp is a wrong clock.
    return max(b.published_at, min(portal, b.first_seen_at))


def to_tombstone(host: str, b: Bulletin, zone: tzinfo = UTC) -> Tombstone:
    return Tombstone(ref=entry_id(host, b), when=local(b.withdrawn_at or b.changed_at, zone))


def newest(entries: tuple[Entry, ...], tombstones: tuple[Tombstone, ...] = (),
           zone: tzinfo = UTC) -> datetime:
    """A document's `updated`: its newest entry's (or marker's), never the clock."""
    stamps = [e.updated for e in entries] + [t.when for t in tombstones]
    return max(stamps, default=local(EPOCH, zone))


def reading_order(entries: list[Entry]) -> tuple[Entry, ...]:
    """Newest publication first; ties broken by id so that the order never flips."""
    return tuple(sorted(entries, key=lambda e: (e.published, e.id), reverse=True))


def local(value: datetime, zone: tzinfo) -> datetime:
    """`value` in `zone`, to the second (the same instant, whatever the zone)."""
    return value.astimezone(zone).replace(microsecond=0)


def _line(value: str | None) -> str | None:
    return (one_line(value) or None) if value else None


def _capped(content: str | None, url: str, cap: ContentCap) -> str | None:
    """At most cap.max_bytes of the text (a 5 MB body would make every feed holding it
    ~7 MB), cut between elements, closed again, and a link to the full text."""
    if content is None or not cap.max_bytes or len(content.encode()) <= cap.max_bytes:
        return content
    head = content.encode()[:cap.max_bytes].decode("utf-8", "ignore")
    head = head[:head.rfind("<")] if head.rfind("<") > head.rfind(">") else head  # a cut tag
    more = f'<p><a href="{html.escape(url)}">{html.escape(cap.more)}</a></p>'
    return nh3.clean(head).strip() + more


def _html(value: str | None) -> str | None:
    return (clean_text(value).strip() or None) if value else None
