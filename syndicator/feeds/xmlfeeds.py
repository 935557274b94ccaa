"""Atom 1.0 and RSS 2.0 bytes of a feed document, with feedgen (and its traps avoided)."""

from __future__ import annotations

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicator.feeds.model import Entry, FeedDocument

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
TOMBSTONE_NS = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721
GENERATOR = "syndicator"


def atom_bytes(doc: FeedDocument, feeds_url: str) -> bytes:
    fg = _feed(doc, feeds_url, "atom")
    if doc.prev_archive:
        fg.link(href=f"{feeds_url}/{doc.prev_archive}.atom", rel="prev-archive",
                type="application/atom+xml")
    if doc.archive:
        fg.link(href=f"{feeds_url}/{doc.scope_stem}.atom", rel="current",
                type="application/atom+xml")
    if doc.hub:
        fg.link(href=doc.hub, rel="hub")
    fg.link(href=doc.home_url, rel="alternate", type="text/html")
    return fg.atom_str(pretty=True)  # type: ignore[no-any-return]


def rss_bytes(doc: FeedDocument, feeds_url: str) -> bytes:
    fg = _feed(doc, feeds_url, "rss")
    fg.link(href=doc.home_url, rel="alternate")  # feedgen's RSS <link> is the last link() call
    return fg.rss_str(pretty=True)  # type: ignore[no-any-return]


def _feed(doc: FeedDocument, feeds_url: str, fmt: str) -> FeedGenerator:
    fg = FeedGenerator()
    ext = _History(doc, feeds_url, fmt)
    fg.register_extension("syndicator", lambda: ext, _NoEntryExtension)
    if fmt == "rss":
        fg.load_extension("dc", atom=False, rss=True)  # dc:creator: RSS <author> needs an email
    fg.id(doc.feed_id)
    fg.title(doc.title)
    fg.subtitle(doc.subtitle)
    fg.language(doc.language)
    fg.author(name=doc.author)
    fg.generator(GENERATOR)
    fg.updated(doc.updated)  # feedgen defaults to now: every build would differ
    fg.link(href=f"{feeds_url}/{doc.stem}.{fmt}", rel="self",
            type="application/atom+xml" if fmt == "atom" else "application/rss+xml")
    for e in doc.entries:
        _entry(fg.add_entry(order="append"), e, fmt)
    return fg


def _entry(fe: FeedEntry, e: Entry, fmt: str) -> None:
    fe.id(e.id)  # also the RSS guid, isPermaLink="false"
    fe.title(e.title)
    fe.link(href=e.url, rel="alternate", type="text/html")
    fe.published(e.published)
    fe.updated(e.updated)
    if e.author:
        if fmt == "rss":
            fe.dc.dc_creator(e.author)
        else:
            fe.author(name=e.author)
    if e.category:
        fe.category(term=e.category_slug or e.category, label=e.category)
    if e.summary_html:
        fe.summary(e.summary_html, type="html")
    if e.content_html:
        fe.content(e.content_html, type="html")


class _NoEntryExtension(BaseEntryExtension):
    """feedgen instantiates an entry extension for every entry; ours adds nothing there."""


class _History(BaseExtension):
    """What feedgen cannot write: fh:archive, RSS paging/hub links and at:deleted-entry."""

    def __init__(self, doc: FeedDocument, feeds_url: str, fmt: str) -> None:
        self._doc, self._url, self._fmt = doc, feeds_url, fmt

    def extend_ns(self) -> dict[str, str]:
        ns = {"fh": HISTORY_NS} if self._doc.archive else {}
        if self._fmt == "atom" and self._doc.tombstones:
            ns["at"] = TOMBSTONE_NS
        return ns

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self._doc.archive:
            etree.SubElement(feed, f"{{{HISTORY_NS}}}archive")
        for t in self._doc.tombstones:
            etree.SubElement(feed, f"{{{TOMBSTONE_NS}}}deleted-entry",
                             ref=t.ref, when=t.when.isoformat())
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        assert channel is not None
        links = []
        if self._doc.prev_archive:
            links.append(("prev-archive", f"{self._url}/{self._doc.prev_archive}.rss"))
        if self._doc.archive:
            links.append(("current", f"{self._url}/{self._doc.scope_stem}.rss"))
            etree.SubElement(channel, f"{{{HISTORY_NS}}}archive")
        if self._doc.hub:
            links.append(("hub", self._doc.hub))  # feedgen drops rel="hub" from RSS
        for rel, href in links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", rel=rel, href=href)
        return feed
