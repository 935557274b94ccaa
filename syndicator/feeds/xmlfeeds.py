"""Atom 1.0 bytes of a feed document, with feedgen (and its traps avoided); RSS is in rss.py."""

from __future__ import annotations

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicator.feeds.model import GENERATOR, HISTORY_NS, Entry, FeedDocument

TOMBSTONE_NS = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721


def atom_bytes(doc: FeedDocument, feeds_url: str) -> bytes:
    fg = _feed(doc, feeds_url)
    if doc.prev_archive:
        fg.link(href=f"{feeds_url}/{doc.prev_archive}.atom", rel="prev-archive",
                type="application/atom+xml")
    if doc.next_archive:
        fg.link(href=f"{feeds_url}/{doc.next_archive}.atom", rel="next-archive",
                type="application/atom+xml")
    if doc.archive:
        fg.link(href=f"{feeds_url}/{doc.scope_stem}.atom", rel="current",
                type="application/atom+xml")
    if doc.hub:
        fg.link(href=doc.hub, rel="hub")
    fg.link(href=doc.home_url, rel="alternate", type="text/html")
    return with_stylesheet(fg.atom_str(pretty=True), doc.stylesheet)


def with_stylesheet(xml: bytes, href: str | None) -> bytes:
    """The document with an xml-stylesheet processing instruction after its declaration:
    a browser shows the XSLT's page instead of raw XML (readers ignore it)."""
    if not href:
        return xml
    declaration, _, rest = xml.partition(b"\n")
    pi = f'<?xml-stylesheet type="text/xsl" href="{href}"?>'  # href: one of our file names
    return declaration + b"\n" + pi.encode() + b"\n" + rest


def _feed(doc: FeedDocument, feeds_url: str) -> FeedGenerator:
    fg = FeedGenerator()
    ext = _History(doc)
    fg.register_extension("syndicator", lambda: ext, _NoEntryExtension)
    fg.id(doc.feed_id)
    fg.title(doc.title)
    fg.subtitle(doc.subtitle)
    fg.language(doc.language)
    fg.author(name=doc.author)
    fg.generator(GENERATOR)
    fg.updated(doc.updated)  # feedgen defaults to now: every build would differ
    if doc.icon:
        fg.icon(doc.icon)
    if doc.logo:
        fg.logo(doc.logo)
    fg.link(href=f"{feeds_url}/{doc.stem}.atom", rel="self", type="application/atom+xml")
    for e in doc.entries:
        _entry(fg.add_entry(order="append"), e)
    return fg


def _entry(fe: FeedEntry, e: Entry) -> None:
    fe.id(e.id)
    fe.title(e.title)
    fe.link(href=e.url, rel="alternate", type="text/html")
    fe.published(e.published)
    fe.updated(e.updated)
    if e.author:
        fe.author(name=e.author)
    if e.category:
        fe.category(term=e.category_slug or e.category, label=e.category)
    if e.summary_html:
        fe.summary(e.summary_html, type="html")
    if e.content_html:
        fe.content(e.content_html, type="html")


class _NoEntryExtension(BaseEntryExtension):  # type: ignore[misc]  # feedgen is untyped
    """feedgen instantiates an entry extension for every entry; ours adds nothing there."""


class _History(BaseExtension):  # type: ignore[misc]  # feedgen is untyped
    """What feedgen cannot write: fh:archive and at:deleted-entry."""

    def __init__(self, doc: FeedDocument) -> None:
        self._doc = doc

    def extend_ns(self) -> dict[str, str]:
        ns = {"fh": HISTORY_NS} if self._doc.archive else {}
        if self._doc.tombstones:
            ns["at"] = TOMBSTONE_NS
        return ns

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self._doc.archive:
            etree.SubElement(feed, f"{{{HISTORY_NS}}}archive")
        for t in self._doc.tombstones:
            etree.SubElement(feed, f"{{{TOMBSTONE_NS}}}deleted-entry",
                             ref=t.ref, when=t.when.isoformat())
        return feed
