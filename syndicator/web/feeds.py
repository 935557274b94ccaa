"""GET/HEAD /feeds/{name}: the feed files with strong ETags, Last-Modified and 304s, from memory."""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syndicator.feeds import names
from syndicator.settings import Settings

CACHE_CONTROL = "public, max-age=300"
CACHE_BYTES = 64 * 1024 * 1024  # beyond this, the least recently served files are dropped


@dataclass(frozen=True)
class _Cached:
    key: tuple[int, int, int]  # (inode, mtime_ns, size): a rewrite is a new inode
    body: bytes
    etag: str
    mtime: int
    headers: dict[str, str]


class FeedFiles:
    """Serves the feed directory; the bytes and validators of each file are read once per change."""

    def __init__(self, directory: Path, budget: int = CACHE_BYTES) -> None:
        self._dir = directory
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._budget = budget
        self._size = 0

    async def serve(self, request: Request) -> Response:
        name = request.path_params["name"]
        if not names.is_feed_file(name):
            return _not_found()
        cached = self._load(name)
        if cached is None:
            return _not_found()
        if _not_modified(request, cached):
            return Response(status_code=304, headers=cached.headers)
        headers = cached.headers | {"content-type": names.media_type(name)}
        if request.method == "HEAD":
            headers["content-length"] = str(len(cached.body))
            return _HeadResponse(headers)
        return Response(cached.body, headers=headers)

    def _load(self, name: str) -> _Cached | None:
        path = self._dir / name
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            self._forget(name)
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._cache.get(name)
        if cached is not None and cached.key == key:
            self._cache.move_to_end(name)
            return cached
        return self._read(name, path)

    def _read(self, name: str, path: Path) -> _Cached | None:
        try:
            with open(path, "rb") as f:  # fstat of the open file: the key matches these bytes
                st = os.fstat(f.fileno())
                body = f.read()
        except FileNotFoundError:
            return None
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        mtime = int(st.st_mtime)
        headers = {"etag": etag, "last-modified": formatdate(mtime, usegmt=True),
                   "cache-control": CACHE_CONTROL}
        cached = _Cached((st.st_ino, st.st_mtime_ns, st.st_size), body, etag, mtime, headers)
        self._forget(name)
        self._cache[name] = cached
        self._size += len(body)
        while self._size > self._budget and len(self._cache) > 1:
            self._forget(next(iter(self._cache)))
        return cached

    def _forget(self, name: str) -> None:
        old = self._cache.pop(name, None)
        if old is not None:
            self._size -= len(old.body)


def _not_found() -> Response:
    return Response("Not Found\n", status_code=404, media_type="text/plain")


class _HeadResponse(Response):
    """The GET headers (Content-Length included) without a body."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(b"", headers=headers)
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1"))
                            for k, v in headers.items()]


def _not_modified(request: Request, cached: _Cached) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since; weak comparison for GET."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or cached.etag in tags
    ims = request.headers.get("if-modified-since")
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return cached.mtime <= since.timestamp()


def routes(settings: Settings) -> list[BaseRoute]:
    """The routes to mount in the daemon's app: files of feeds.output_dir under /feeds/."""
    endpoint = FeedFiles(Path(settings.feeds.output_dir))
    return [Route("/feeds/{name}", endpoint.serve, methods=["GET", "HEAD"])]
