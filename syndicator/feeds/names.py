"""File names of the feed directory and their media types (shared by the writer and the route)."""

from __future__ import annotations

import re

ALL = "all"
OPML = "index.opml"
FORMATS = ("atom", "rss", "json")
# A category whose slug is one of these gets a suffix, so it never shadows our own files.
RESERVED = frozenset({ALL, "index"})

MEDIA_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
    "opml": "text/x-opml; charset=utf-8",
}

# Slugs are [a-z0-9-]; archives add ".archive-N" (a dot never occurs in a slug).
_NAME = re.compile(
    r"(?:[a-z0-9]+(?:-[a-z0-9]+)*(?:\.archive-[1-9][0-9]{0,8})?\.(?:atom|rss|json)"
    r"|index\.opml)"
)


def scope_stem(slug: str | None) -> str:
    """The file stem of a feed: `all`, or the category's slug."""
    if slug is None:
        return ALL
    return f"{slug}-category" if slug in RESERVED else slug


def archive_stem(stem: str, page: int) -> str:
    return f"{stem}.archive-{page}"


def is_feed_file(name: str) -> bool:
    """Whether `name` is a file we write (and so may serve); rejects every path trick."""
    return _NAME.fullmatch(name) is not None


def is_subscription_document(name: str) -> bool:
    """A feed's current document: what a reader subscribes to, and the topics WebSub announces."""
    return is_feed_file(name) and name != OPML and ".archive-" not in name


def media_type(name: str) -> str:
    return MEDIA_TYPES[name.rsplit(".", 1)[1]]
