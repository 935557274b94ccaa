"""File names of the feed directory and their media types (shared by the writer and the route)."""

from __future__ import annotations

import hashlib
import re

ALL = "all"
OPML = "index.opml"
STYLESHEET = "feed.xsl"  # turns Atom and RSS into a page for a person who opens them
FORMATS = ("atom", "rss", "json")
# A category whose slug is one of these gets a suffix, so it never shadows our own files.
RESERVED = frozenset({ALL, "index"})

MEDIA_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
    "opml": "text/x-opml; charset=utf-8",
    "xsl": "text/xsl; charset=utf-8",
}
# What a browser is given instead of the Atom and RSS types: it applies the stylesheet only
# to an XML type, and shows application/atom+xml or application/rss+xml as raw text.
BROWSER_XML = "application/xml; charset=utf-8"
# A file name stays far below NAME_MAX (255) with a build's temporary prefix and suffix and
# a precompressed variant's extension; longer names are never ours.
MAX_STEM = 100
MAX_NAME = 128

# Slugs are [a-z0-9-]; archives add ".archive-N" (a dot never occurs in a slug).
_NAME = re.compile(
    r"(?:[a-z0-9]+(?:-[a-z0-9]+)*(?:\.archive-[1-9][0-9]{0,8})?\.(?:atom|rss|json)"
    r"|index\.opml|feed\.xsl)"
)


def scope_stem(slug: str | None) -> str:
    """The file stem of a feed: `all`, or the category's slug."""
    if slug is None:
        return ALL
    stem = f"{slug}-category" if slug in RESERVED else slug
    if len(stem) > MAX_STEM:  # a very long category name: cut, kept apart by a hash
        digest = hashlib.sha256(stem.encode()).hexdigest()[:10]
        stem = stem[:MAX_STEM - 11].rstrip("-") + "-" + digest
    return stem


def archive_stem(stem: str, page: int) -> str:
    return f"{stem}.archive-{page}"


def is_feed_file(name: str) -> bool:
    """Whether `name` is a file we write (and so may serve); rejects every path trick."""
    return len(name) <= MAX_NAME and _NAME.fullmatch(name) is not None


def is_subscription_document(name: str) -> bool:
    """A feed's current document: what a reader subscribes to, and the topics WebSub announces."""
    return is_feed_file(name) and name not in (OPML, STYLESHEET) and ".archive-" not in name


def is_xml_feed(name: str) -> bool:
    """Atom and RSS documents: the ones that name the stylesheet."""
    return name.endswith((".atom", ".rss"))


def media_type(name: str) -> str:
    return MEDIA_TYPES[name.rsplit(".", 1)[1]]
