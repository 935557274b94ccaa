"""Splits a feed into its subscription document and RFC 5005 archive pages (pure, no I/O).

Archive page k holds the bulletins in arrival positions [(k-1)*N, k*N) of the feed, counting
withdrawn ones too, so a page never shifts once full and its URL always means the same
entries. The subscription document holds the arrivals after the last full page (fewer than
N) topped up with the newest publications to N entries: every public bulletin is in at
least one document, however many arrived between two polls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from syndicator.feeds.model import (
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


def documents(scope: Scope, members: Sequence[Bulletin], ctx: FeedContext) -> list[FeedDocument]:
    """Archive pages 1 (oldest) .. n, then the subscription document: the order to write them.

    Each document comes after every page it links to with prev-archive, so a reader who
    follows a link mid-build never meets a page that is not written yet. (An archive page's
    rel="current" points forward, but readers only reach a page from that document.)
    """
    n = ctx.page_size
    full_pages = len(members) // n
    base = FeedDocument(
        stem=scope.stem, scope_stem=scope.stem, feed_id=scope.feed_id, title=scope.title,
        subtitle=scope.subtitle, home_url=ctx.home_url, author=ctx.author,
        language=ctx.language, updated=newest(()), entries=(), hub=ctx.hub,
        reader_note=ctx.reader_note)
    current = _current(base, members, full_pages * n, ctx)
    if full_pages:
        current = replace(current, prev_archive=archive_stem(scope.stem, full_pages))
    pages = [_archive(base, members[(k - 1) * n:k * n], k, ctx)
             for k in range(1, full_pages + 1)]
    return [*pages, current]


def _current(base: FeedDocument, members: Sequence[Bulletin], tail_from: int,
             ctx: FeedContext) -> FeedDocument:
    public = [b for b in members if b.state == "public"]
    chosen = {b.id: b for b in members[tail_from:] if b.state == "public"}
    for b in sorted(public, key=lambda b: (b.published_at, b.id), reverse=True):
        if len(chosen) >= ctx.page_size:
            break
        chosen.setdefault(b.id, b)
    entries = reading_order([to_entry(ctx.host, b) for b in chosen.values()])
    gone = sorted((b for b in members if b.state != "public" and b.withdrawn_at is not None
                   and b.withdrawn_at >= ctx.tombstones_since),
                  key=lambda b: (b.withdrawn_at, b.id), reverse=True)
    tombstones = tuple(to_tombstone(ctx.host, b) for b in gone)
    return replace(base, entries=entries, tombstones=tombstones,
                   updated=newest(entries, tombstones))


def _archive(base: FeedDocument, page: Sequence[Bulletin], k: int,
             ctx: FeedContext) -> FeedDocument:
    entries = reading_order([to_entry(ctx.host, b) for b in page if b.state == "public"])
    return replace(base, stem=archive_stem(base.stem, k), entries=entries, archive=True,
                   prev_archive=archive_stem(base.stem, k - 1) if k > 1 else None,
                   updated=newest(entries), hub=None)
