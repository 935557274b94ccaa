"""GET/HEAD /feeds/{name}: the feed files from memory, gzip when accepted, ETags and 304s."""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syndicator.config.settings import Settings
from syndicator.feeds import names, precompressed
from syndicator.web import negotiate

CACHE_CONTROL = b"public, max-age=300"
CACHE_BYTES = 64 * 1024 * 1024  # beyond this, the least recently served files are dropped
RawHeaders = list[tuple[bytes, bytes]]
VariantKey = tuple[bool, bool]  # (gzip, for a browser)
_NOT_FOUND: RawHeaders = [(b"content-type", b"text/plain; charset=utf-8"),
                          (b"content-length", b"10")]


@dataclass(frozen=True)
class _Variant:
    """One representation of a file: its bytes on the wire and its ready-made headers."""

    body: bytes
    etag: str
    full: RawHeaders  # 200 (GET and HEAD)
    not_modified: RawHeaders  # 304


@dataclass(frozen=True)
class _Cached:
    key: tuple[int, int, int]  # (inode, mtime_ns, size): a rewrite is a new inode
    mtime: int
    size: int  # bytes held in memory
    variants: dict[VariantKey, _Variant]


class FeedFiles:
    """An ASGI endpoint serving the feed directory; each file is read once per change.

    Raw ASGI rather than Request/Response objects: the per-request work is a stat() and a
    header comparison, which keeps a 304 about as cheap as a static file server's.
    """

    def __init__(self, directory: Path, budget: int = CACHE_BYTES, *, hub: str | None = None,
                 feeds_url: str = "") -> None:
        self._dir = str(directory)  # joined as text: pathlib costs more than the stat()
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._budget = budget
        self._size = 0
        self._hub, self._feeds_url = hub, feeds_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path_params"]["name"]
        cached = self._load(name) if names.is_feed_file(name) else None
        if cached is None:
            status, headers, body = 404, _NOT_FOUND, b"Not Found\n"
        else:
            wanted = _Wanted(scope["headers"])
            variant = cached.variants[wanted.key(cached)]
            if wanted.not_modified(variant.etag, cached.mtime):
                status, headers, body = 304, variant.not_modified, b""
            else:
                status, headers = 200, variant.full
                body = b"" if scope["method"] == "HEAD" else variant.body
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _load(self, name: str) -> _Cached | None:
        path = os.path.join(self._dir, name)
        try:
            st = os.stat(path)
        except OSError:  # absent, or a name the file system refuses (ENAMETOOLONG, ...)
            self._forget(name)
            return None
        cached = self._cache.get(name)
        if cached is not None and cached.key == (st.st_ino, st.st_mtime_ns, st.st_size):
            self._cache.move_to_end(name)
            return cached
        return self._read(name, path)

    def _read(self, name: str, path: str) -> _Cached | None:
        try:
            with open(path, "rb") as f:  # fstat of the open file: the key matches these bytes
                st = os.fstat(f.fileno())
                body = f.read()
        except OSError:
            return None
        cached = _entry(name, body, _gzip_copy(path, body), st, self._links(name))
        self._forget(name)
        self._cache[name] = cached
        self._size += cached.size
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
            self._size -= old.size


class _Wanted:
    """The request headers that choose a representation and decide a 304."""

    __slots__ = ("accept", "encoding", "none_match", "modified_since")

    def __init__(self, headers: RawHeaders) -> None:
        self.accept = self.encoding = b""
        self.none_match: bytes | None = None
        self.modified_since: bytes | None = None
        for key, value in headers:
            if key == b"accept-encoding":
                self.encoding = value
            elif key == b"accept":
                self.accept = value
            elif key == b"if-none-match":
                self.none_match = value
            elif key == b"if-modified-since":
                self.modified_since = value

    def key(self, cached: _Cached) -> VariantKey:
        gz = negotiate.accepts(self.encoding, b"gzip") and (True, False) in cached.variants
        browser = negotiate.is_browser(self.accept) and (False, True) in cached.variants
        return gz, browser

    def not_modified(self, etag: str, mtime: int) -> bool:
        """RFC 9110 13.1: If-None-Match wins over If-Modified-Since; weak comparison for GET.
        A date that is not a date, or later than now, is ignored (13.1.3)."""
        if self.none_match is not None:
            tags = {t.strip().removeprefix("W/") for t in self.none_match.decode("latin-1")
                    .split(",")}
            return "*" in tags or etag in tags
        if self.modified_since is None:
            return False
        try:
            since = parsedate_to_datetime(self.modified_since.decode("latin-1"))
        except (TypeError, ValueError, IndexError):
            return False
        return since.tzinfo is not None and mtime <= since.timestamp() <= time.time()


def _gzip_copy(path: str, body: bytes) -> bytes | None:
    """The build's gzip copy when it holds exactly these bytes (never compressed here)."""
    try:
        data = precompressed.variant_path(Path(path), ".gz").read_bytes()
    except OSError:
        return None
    return data if precompressed.decompress(data) == body else None


def _entry(name: str, body: bytes, gz: bytes | None, st: os.stat_result,
           links: RawHeaders) -> _Cached:
    tag = hashlib.sha256(body).hexdigest()[:32]
    mtime = int(st.st_mtime)
    vary = b"Accept, Accept-Encoding" if names.is_xml_feed(name) else b"Accept-Encoding"
    common = [(b"last-modified", formatdate(mtime, usegmt=True).encode()),
              (b"cache-control", CACHE_CONTROL), (b"vary", vary)]
    extra = [(b"x-content-type-options", b"nosniff"),
             # Public documents: web-based readers may fetch them from their own origin.
             (b"access-control-allow-origin", b"*"), *links]
    types = {False: names.media_type(name)}
    if names.is_xml_feed(name):
        types[True] = names.BROWSER_XML
    variants = {(coded, browser): _variant(data, media, coded, tag, common, extra)
                for browser, media in types.items()
                for coded, data in ((False, body), (True, gz)) if data is not None}
    size = len(body) + len(gz or b"")
    return _Cached((st.st_ino, st.st_mtime_ns, st.st_size), mtime, size, variants)


def _variant(data: bytes, media: str, coded: bool, tag: str, common: RawHeaders,
             extra: RawHeaders) -> _Variant:
    """One representation; its ETag names the type and coding (distinct per representation)."""
    etag = f'"{tag}{"-xml" if media == names.BROWSER_XML else ""}{"-gz" if coded else ""}"'
    validators = [(b"etag", etag.encode()), *common]
    full = [(b"content-type", media.encode()), (b"content-length", str(len(data)).encode()),
            *([(b"content-encoding", b"gzip")] if coded else []), *validators, *extra]
    return _Variant(data, etag, full, validators)


class FeedsFirst:
    """ASGI: GET/HEAD /feeds/<name> straight to the files, every other request to `app`.

    Feed readers make nearly all the requests; Starlette's middleware and router cost about
    as much again as the route itself (docs/benchmarks.md). Other methods on /feeds/ go on
    to `app`, whose route answers 405.
    """

    def __init__(self, app: ASGIApp, files: FeedFiles) -> None:
        self._app, self._files = app, files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["path"].startswith("/feeds/")
                and scope["method"] in ("GET", "HEAD")):
            scope["path_params"] = {"name": scope["path"][len("/feeds/"):]}
            await self._files(scope, receive, send)
        else:
            await self._app(scope, receive, send)


def endpoint(settings: Settings) -> FeedFiles:
    """The files of feeds.output_dir, as the daemon serves them under /feeds/."""
    return FeedFiles(Path(settings.feeds.output_dir), hub=settings.feeds.hub,
                     feeds_url=settings.feeds_url)


def routes(settings: Settings, files: FeedFiles | None = None) -> list[BaseRoute]:
    """The routes to mount in an app: files of feeds.output_dir under /feeds/."""
    return [Route("/feeds/{name}", files or endpoint(settings), methods=["GET", "HEAD"])]
