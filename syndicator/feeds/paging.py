"""Splits a feed into its subscription document and RFC 5005 archive pages (pure, no I/O).

Filing order: bulletins in the order they reached us, a poll's arrivals (a whole first
import included) among themselves in publication order. Archive page k holds positions
[(k-1)*N, k*N) of that order, withdrawn bulletins counted, so a full page keeps its entries
for good: what arrives later is filed after it, however old its publication date. Pages are
therefore in publication order except for a bulletin that reached us late.

The subscription document holds the bulletins not yet on a full page (fewer than N),
topped up to N with the most recent activity: what arrived or changed last (an edit, a
return after withdrawal), then what was published last. So every public bulletin is in at
least one document however many arrived between two polls, and an edited bulletin comes
back into the documents readers poll, whatever page it lives on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo

from syndicator.feeds.model import (
    ContentCap,
    FeedDocument,
    newest,
    reading_order,
    to_entry,
    to_tombstone,
)
from syndicator.feeds.names import archive_stem
from syndicator.models.bulletin import Bulletin


@dataclass(frozen=True)
class Scope:
    """A logical feed (all bulletins, or one category) and what readers see as its name."""

    stem: str
    feed_id: str
    title: str
    subtitle: str


@dataclass(frozen=True)
class FeedContext:
    """The settings a document needs, resolved once per build."""

    host: str
    home_url: str
    author: str
    language: str
    page_size: int
    hub: str | None
    tombstones_since: datetime
    reader_note: str = ""
    zone: tzinfo = UTC
    icon: str | None = None
    logo: str | None = None
    stylesheet: str | None = None
    content_cap: ContentCap = ContentCap()


def documents(scope: Scope, members: Sequence[Bulletin], ctx: FeedContext) -> list[FeedDocument]:
    """Archive pages 1 (oldest) .. n, then the subscription document: the order to write them.

    Each document comes after every page it links to with prev-archive, so a reader who
    follows a link mid-build never meets a page that is not written yet. (An archive page's
    next-archive and current links point forward, but readers reach a page from the
    subscription document.)
    """
    n = ctx.page_size
    filed = filing_order(members)
    full_pages = len(filed) // n
    base = FeedDocument(
        stem=scope.stem, scope_stem=scope.stem, feed_id=scope.feed_id, title=scope.title,
        subtitle=scope.subtitle, home_url=ctx.home_url, author=ctx.author,
        language=ctx.language, updated=newest((), zone=ctx.zone), entries=(), hub=ctx.hub,
        reader_note=ctx.reader_note, icon=ctx.icon, logo=ctx.logo, stylesheet=ctx.stylesheet)
    current = _current(base, filed, full_pages * n, ctx)
    if full_pages:
        current = replace(current, prev_archive=archive_stem(scope.stem, full_pages))
    pages = [_archive(base, filed[(k - 1) * n:k * n], k, full_pages, ctx)
             for k in range(1, full_pages + 1)]
    return [*pages, current]


def filing_order(members: Sequence[Bulletin]) -> list[Bulletin]:
    """Arrival batches in order, each in publication order (see the module's docstring).

    A batch is the bulletins first seen at one time (one poll). The running maximum keeps
    batches in our id order even if the clock was set back between two polls.
    """
    keyed = []
    batch: datetime | None = None
    for b in sorted(members, key=lambda b: b.id):
        batch = b.first_seen_at if batch is None else max(batch, b.first_seen_at)
        keyed.append(((batch, b.published_at, b.id), b))
    return [b for _, b in sorted(keyed, key=lambda kb: kb[0])]


def _activity(b: Bulletin) -> tuple[datetime, datetime, int]:
    """Most recent first: arrival or last change, then publication (a first import arrives
    all at once), then our id, so that the order never flips."""
    return (b.changed_at, b.published_at, b.id)


def _current(base: FeedDocument, filed: Sequence[Bulletin], tail_from: int,
             ctx: FeedContext) -> FeedDocument:
    public = [b for b in filed if b.state == "public"]
    chosen = {b.id: b for b in filed[tail_from:] if b.state == "public"}
    for b in sorted(public, key=_activity, reverse=True):
        if len(chosen) >= ctx.page_size:
            break
        chosen.setdefault(b.id, b)
    entries = reading_order([to_entry(ctx.host, b, ctx.zone, ctx.content_cap)
                             for b in chosen.values()])
    gone = sorted((b for b in filed if b.state != "public" and b.withdrawn_at is not None
                   and b.withdrawn_at >= ctx.tombstones_since),
                  key=lambda b: (b.withdrawn_at, b.id), reverse=True)
    tombstones = tuple(to_tombstone(ctx.host, b, ctx.zone) for b in gone)
    return replace(base, entries=entries, tombstones=tombstones,
                   updated=newest(entries, tombstones, ctx.zone))


def _archive(base: FeedDocument, page: Sequence[Bulletin], k: int, last: int,
             ctx: FeedContext) -> FeedDocument:
    """Page k of `last`; the newest page's next-archive is the subscription document, which
    holds the entries after it (RFC 5005 4: archives link both ways)."""
    entries = reading_order([to_entry(ctx.host, b, ctx.zone, ctx.content_cap) for b in page
                             if b.state == "public"])
    return replace(base, stem=archive_stem(base.stem, k), entries=entries, archive=True,
                   prev_archive=archive_stem(base.stem, k - 1) if k > 1 else None,
                   next_archive=archive_stem(base.stem, k + 1) if k < last else base.stem,
                   updated=newest(entries, zone=ctx.zone), hub=None)
