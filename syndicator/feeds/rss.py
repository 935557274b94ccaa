"""RSS 2.0 bytes of a feed document, with lxml: English RFC 822 dates, the locale untouched."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from syndicator.feeds.model import GENERATOR, HISTORY_NS, Entry, FeedDocument
from syndicator.feeds.xmlfeeds import dublin_core

# Not feedgen: its RSS dates switch the process-wide locale (setlocale) around strftime,
# unsafe beside the daemon's other threads. These are the bytes feedgen gave, element for
# element (the golden files did not change when this replaced it).

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"  # dc:creator: RSS <author> needs an email
DOCS = "http://www.rssboard.org/rss-specification"


def rss_bytes(doc: FeedDocument, feeds_url: str) -> bytes:
    nsmap = {"fh": HISTORY_NS} if doc.archive else {}
    rss = etree.Element("rss", version="2.0",
                        nsmap={**nsmap, "dc": DC_NS, "atom": ATOM_NS, "content": CONTENT_NS})
    channel = etree.SubElement(rss, "channel")
    _channel(channel, doc, feeds_url)
    for e in doc.entries:
        _item(etree.SubElement(channel, "item"), e)
    if doc.stylesheet:  # a browser shows the XSLT's page instead of raw XML
        rss.addprevious(etree.ProcessingInstruction(
            "xml-stylesheet", f'type="text/xsl" href="{doc.stylesheet}"'))
    return etree.tostring(etree.ElementTree(rss), pretty_print=True, encoding="UTF-8",
                          xml_declaration=True)


def _channel(channel: etree._Element, doc: FeedDocument, feeds_url: str) -> None:
    _text(channel, "title", doc.title)
    _text(channel, "link", doc.home_url)
    _text(channel, "description", doc.subtitle)
    etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=f"{feeds_url}/{doc.stem}.rss",
                     rel="self", type="application/rss+xml")
    _text(channel, "docs", DOCS)
    _text(channel, "generator", GENERATOR)
    _text(channel, "language", doc.language)
    _text(channel, "lastBuildDate", _rfc822(doc.updated))
    image = doc.logo or doc.icon
    if image:  # url, title and link are required; the title and link match the channel's
        element = etree.SubElement(channel, "image")
        for tag, text in (("url", image), ("title", doc.title), ("link", doc.home_url)):
            _text(element, tag, text)
    if doc.archive:
        etree.SubElement(channel, f"{{{HISTORY_NS}}}archive")
    for rel, href in _history_links(doc, feeds_url):
        etree.SubElement(channel, f"{{{ATOM_NS}}}link", rel=rel, href=href)


def _history_links(doc: FeedDocument, feeds_url: str) -> list[tuple[str, str]]:
    """RFC 5005 paging and the WebSub hub, as atom:link elements (RSS has none of its own)."""
    links = []
    if doc.prev_archive:
        links.append(("prev-archive", f"{feeds_url}/{doc.prev_archive}.rss"))
    if doc.next_archive:
        links.append(("next-archive", f"{feeds_url}/{doc.next_archive}.rss"))
    if doc.archive:
        links.append(("current", f"{feeds_url}/{doc.scope_stem}.rss"))
    if doc.hub:
        links.append(("hub", doc.hub))
    return links


def _item(item: etree._Element, e: Entry) -> None:
    _text(item, "title", e.title)
    if e.url:
        _text(item, "link", e.url)
    # The summary is the description when there is one; the full body then goes beside it.
    description = e.summary_html or e.content_html
    if description:
        _text(item, "description", description)
    if e.summary_html and e.content_html:
        _text(item, f"{{{CONTENT_NS}}}encoded", e.content_html)
    guid = _text(item, "guid", e.id)
    guid.set("isPermaLink", "false")
    for name in [n for n, _slug in e.categories] or ([e.category] if e.category else []):
        _text(item, "category", name)
    if e.attachments:  # RSS 2.0 allows one; the content lists them all
        first = e.attachments[0]
        etree.SubElement(item, "enclosure", url=first.url, length=str(first.size or 0),
                         type=first.type or "application/octet-stream")
    _text(item, "pubDate", _rfc822(e.published))
    if e.author:
        _text(item, f"{{{DC_NS}}}creator", e.author)
    dublin_core(item, e)


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _rfc822(value: datetime) -> str:
    """RFC 822 date with English names from the standard library's tables, not the locale."""
    return format_datetime(value)
