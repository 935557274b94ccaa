"""What the feed directory should hold: every document of every feed, rendered on demand (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from importlib import resources

import yaml

from syndicator.config.settings import Settings
from syndicator.feeds import names
from syndicator.feeds.jsonfeed import json_bytes
from syndicator.feeds.model import ContentCap, FeedDocument, host_of
from syndicator.feeds.opml import opml_bytes
from syndicator.feeds.paging import FeedContext, Scope, documents
from syndicator.feeds.rss import rss_bytes
from syndicator.feeds.stylesheet import stylesheet_bytes
from syndicator.feeds.xmlfeeds import atom_bytes
from syndicator.models.bulletin import Bulletin
from syndicator.models.text import one_line

Renderer = Callable[[FeedDocument, str], bytes]
RENDERERS: dict[str, Renderer] = {"atom": atom_bytes, "rss": rss_bytes, "json": json_bytes}


@dataclass(frozen=True)
class Job:
    """One file: its name, a key equal exactly when the bytes would be, and how to render."""

    name: str
    key: int  # within one process
    render: Callable[[], bytes]


def render_all(settings: Settings, members: Sequence[Bulletin], now: datetime) -> dict[str, bytes]:
    """File name -> bytes for everything the feed directory should hold (pure)."""
    return {job.name: job.render() for job in jobs(settings, members, now)}


def jobs(settings: Settings, members: Sequence[Bulletin], now: datetime) -> list[Job]:
    """Every file of the feed directory, in the order to write them (pages before the documents
    linking to them, index.opml last); nothing is rendered until a job's render() is called."""
    ctx = _context(settings, now)
    feeds_url = settings.feeds_url
    scopes = _scopes(settings, members)
    jobs = [Job(f"{doc.stem}.{ext}", hash((doc, ext, feeds_url)), partial(render, doc, feeds_url))
            for scope, scope_members in scopes
            for doc in documents(scope, scope_members, ctx)
            for ext, render in RENDERERS.items()]
    title = _messages()["opml_title"].format(site=_site(settings))
    opml = opml_bytes(title, [s for s, _ in scopes], feeds_url, ctx.home_url)
    xsl = stylesheet_bytes(settings)
    # The stylesheet first: a browser opening a document mid-build finds it.
    return [Job(names.STYLESHEET, hash(xsl), lambda: xsl), *jobs,
            Job(names.OPML, hash(opml), lambda: opml)]


def _context(settings: Settings, now: datetime) -> FeedContext:
    return FeedContext(
        host=host_of(settings.base_url), home_url=str(settings.site.url),
        author=_site(settings), language=settings.site.language,
        page_size=settings.feeds.max_entries,
        hub=settings.feeds.hub,
        tombstones_since=now - timedelta(days=settings.feeds.tombstone_days),
        reader_note=_messages()["reader_note"], zone=settings.tz,
        icon=_url(settings.site.icon), logo=_url(settings.site.logo),
        stylesheet=names.STYLESHEET,
        content_cap=ContentCap(settings.feeds.max_content_bytes, _messages()["content_more"],
                               download=_messages()["download"],
                               corrected=_messages()["correction_note"]))


def _url(value: object | None) -> str | None:
    return str(value) if value is not None else None


def _scopes(settings: Settings, members: Sequence[Bulletin]) -> list[tuple[Scope, list[Bulletin]]]:
    """`all`, then one feed per category slug ever seen (so a withdrawal reaches its feed too)."""
    by_slug: dict[str, list[Bulletin]] = {}
    for b in members:
        for _name, slug in b.all_categories:  # a bulletin is in each of its categories' feeds
            by_slug.setdefault(slug, []).append(b)
    text = _messages()
    site = _site(settings)
    base = settings.feeds_url
    out = [(Scope(names.ALL, f"{base}/{names.ALL}.atom", text["title_all"].format(site=site),
                  text["subtitle_all"].format(site=site)), list(members))]
    for slug, group in sorted(by_slug.items()):
        name = _display_name(group, slug)
        stem = names.scope_stem(slug)
        out.append((Scope(stem, f"{base}/{stem}.atom",
                          text["title_category"].format(site=site, category=name),
                          text["subtitle_category"].format(site=site, category=name)), group))
    return out


def _site(settings: Settings) -> str:
    return one_line(settings.site.title) or host_of(settings.base_url)


def _display_name(group: Sequence[Bulletin], slug: str) -> str:
    """Names that fold to one slug may differ in case or accents: the newest public one wins."""
    public = [b for b in group if b.state == "public"] or list(group)
    name = next((n for n, s in public[-1].all_categories if s == slug), "")
    return one_line(name) or slug


@cache
def _messages() -> dict[str, str]:
    text = resources.files("syndicator.feeds").joinpath("messages.yaml").read_text("utf-8")
    return dict(yaml.safe_load(text))
