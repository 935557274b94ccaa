"""What a request asks of a feed file: a coding it accepts, and whether a browser asks (pure)."""

from __future__ import annotations

import functools

# A browser's navigation names text/html; feed readers name a feed type or only */*.
_FEED_TYPES = (b"application/atom+xml", b"application/rss+xml")


@functools.lru_cache(maxsize=256)  # clients send a handful of distinct values
def accepts(accept_encoding: bytes, coding: bytes) -> bool:
    """RFC 9110 12.5.3: `coding` is acceptable unless given q=0, or absent and `*` is q=0 or
    absent too (`gzip;q=0`, `identity` alone, an empty field: no)."""
    star: float | None = None
    for part in accept_encoding.lower().split(b","):
        name, _, params = part.partition(b";")
        name = name.strip()
        if name == coding or (coding == b"gzip" and name == b"x-gzip"):
            return _quality(params) > 0
        if name == b"*":
            star = _quality(params)
    return star is not None and star > 0


def is_browser(accept: bytes) -> bool:
    """A page load in a browser: it wants HTML and names neither feed type."""
    return b"text/html" in accept and not any(t in accept for t in _FEED_TYPES)


def _quality(params: bytes) -> float:
    for param in params.split(b";"):
        key, _, value = param.partition(b"=")
        if key.strip() == b"q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0
