"""Atom 1.0 bytes of a feed document, with feedgen (and its traps avoided); RSS is in rss.py."""

from __future__ import annotations

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicator.feeds.model import GENERATOR, HISTORY_NS, Entry, FeedDocument

TOMBSTONE_NS = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"  # an official document's number, date, issuer


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
    fg.register_extension("syndicator", lambda: ext, _EntryExtension)
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
    for name, slug in e.categories or ([(e.category, e.category_slug or e.category)]
                                       if e.category else []):
        fe.category(term=slug, label=name)
    fe.syndicator.entry = e  # enclosures and Dublin Core: written by _EntryExtension
    if e.summary_html:
        fe.summary(e.summary_html, type="html")
    if e.content_html:
        fe.content(e.content_html, type="html")


class _EntryExtension(BaseEntryExtension):  # type: ignore[misc]  # feedgen is untyped
    """What feedgen 1.0 writes wrong in an entry: its atom_entry() reads a link's rel, type,
    title and length from the element it just made, so every enclosure would come out as a
    bare alternate link. Enclosures (RFC 4287 4.2.7.2, several, each with its length) and
    an official document's Dublin Core elements are written here instead."""

    entry: Entry | None = None

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.entry is None:
            return entry
        for a in self.entry.attachments:
            link = etree.SubElement(entry, f"{{{ATOM_NS}}}link", href=a.url, rel="enclosure",
                                    type=a.type or "application/octet-stream", title=a.title)
            if a.size:
                link.set("length", str(a.size))
        dublin_core(entry, self.entry)
        return entry


def dublin_core(parent: etree._Element, e: Entry) -> None:
    """dc:identifier (số ký hiệu), dc:date (ngày ban hành), dc:publisher, dc:type."""
    doc = e.document
    if doc is None:
        return
    values = (("identifier", doc.number), ("date", doc.issued_at and doc.issued_at.isoformat()),
              ("publisher", doc.issuer), ("type", doc.type))
    for tag, value in values:
        if value:
            etree.SubElement(parent, f"{{{DC_NS}}}{tag}").text = value


class _History(BaseExtension):  # type: ignore[misc]  # feedgen is untyped
    """What feedgen cannot write: fh:archive and at:deleted-entry."""

    def __init__(self, doc: FeedDocument) -> None:
        self._doc = doc

    def extend_ns(self) -> dict[str, str]:
        ns = {"fh": HISTORY_NS} if self._doc.archive else {}
        if any(e.document for e in self._doc.entries):
            ns["dc"] = DC_NS
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
