"""GET/HEAD /feeds/{name}: the feed files with strong ETags, Last-Modified and 304s, from memory."""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from syndicator.config.settings import Settings
from syndicator.feeds import names

CACHE_CONTROL = b"public, max-age=300"
CACHE_BYTES = 64 * 1024 * 1024  # beyond this, the least recently served files are dropped
RawHeaders = list[tuple[bytes, bytes]]
_NOT_FOUND: RawHeaders = [(b"content-type", b"text/plain; charset=utf-8"),
                          (b"content-length", b"10")]


@dataclass(frozen=True)
class _Cached:
    key: tuple[int, int, int]  # (inode, mtime_ns, size): a rewrite is a new inode
    body: bytes
    etag: str
    mtime: int
    full: RawHeaders  # 200 (GET and HEAD)
    not_modified: RawHeaders  # 304


class FeedFiles:
    """An ASGI endpoint serving the feed directory; each file is read once per change.

    Raw ASGI rather than Request/Response objects: the per-request work is a stat() and a
    header comparison, which keeps a 304 about as cheap as a static file server's.
    """

    def __init__(self, directory: Path, budget: int = CACHE_BYTES, *, hub: str | None = None,
                 feeds_url: str = "") -> None:
        self._dir = directory
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._budget = budget
        self._size = 0
        self._hub, self._feeds_url = hub, feeds_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path_params"]["name"]
        cached = self._load(name) if names.is_feed_file(name) else None
        if cached is None:
            status, headers, body = 404, _NOT_FOUND, b"Not Found\n"
        elif _not_modified(scope["headers"], cached):
            status, headers, body = 304, cached.not_modified, b""
        else:
            status, headers = 200, cached.full
            body = b"" if scope["method"] == "HEAD" else cached.body
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _load(self, name: str) -> _Cached | None:
        path = self._dir / name
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            self._forget(name)
            return None
        cached = self._cache.get(name)
        if cached is not None and cached.key == (st.st_ino, st.st_mtime_ns, st.st_size):
            self._cache.move_to_end(name)
            return cached
        return self._read(name, path)

    def _read(self, name: str, path: Path) -> _Cached | None:
        try:
            with open(path, "rb") as f:  # fstat of the open file: the key matches these bytes
                st = os.fstat(f.fileno())
                body = f.read()
        except (FileNotFoundError, IsADirectoryError):
            return None
        cached = _entry(name, body, st, self._links(name))
        self._forget(name)
        self._cache[name] = cached
        self._size += len(body)
        while self._size > self._budget and len(self._cache) > 1:
            self._forget(next(iter(self._cache)))
        return cached

    def _links(self, name: str) -> RawHeaders:
        """WebSub 4: a topic's responses MUST name its hub and its own (topic) URL."""
        if self._hub is None or not names.is_subscription_document(name):
            return []  # archive pages and the OPML are never announced to the hub
        return [(b"link", f'<{self._hub}>; rel="hub"'.encode()),
                (b"link", f'<{self._feeds_url}/{name}>; rel="self"'.encode())]

    def _forget(self, name: str) -> None:
        old = self._cache.pop(name, None)
        if old is not None:
            self._size -= len(old.body)


def _entry(name: str, body: bytes, st: os.stat_result, links: RawHeaders) -> _Cached:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    mtime = int(st.st_mtime)
    validators = [(b"etag", etag.encode()),
                  (b"last-modified", formatdate(mtime, usegmt=True).encode()),
                  (b"cache-control", CACHE_CONTROL)]
    full = [(b"content-type", names.media_type(name).encode()),
            (b"content-length", str(len(body)).encode()), *validators,
            (b"x-content-type-options", b"nosniff"),
            # Public documents: web-based readers may fetch them from their own origin.
            (b"access-control-allow-origin", b"*"), *links]
    return _Cached((st.st_ino, st.st_mtime_ns, st.st_size), body, etag, mtime, full, validators)


def _not_modified(headers: RawHeaders, cached: _Cached) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since; weak comparison for GET."""
    inm = ims = None
    for key, value in headers:
        if key == b"if-none-match":
            inm = value.decode("latin-1")
        elif key == b"if-modified-since":
            ims = value.decode("latin-1")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or cached.etag in tags
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError, IndexError):
        return False
    return since.tzinfo is not None and cached.mtime <= since.timestamp()


def routes(settings: Settings) -> list[BaseRoute]:
    """The routes to mount in the daemon's app: files of feeds.output_dir under /feeds/."""
    endpoint = FeedFiles(Path(settings.feeds.output_dir), hub=settings.feeds.hub,
                         feeds_url=settings.feeds_url)
    return [Route("/feeds/{name}", endpoint, methods=["GET", "HEAD"])]
