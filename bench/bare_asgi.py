"""The floor under the daemon's feed route, and the route alone, for `feeds_wire_bench.py --bare`.

`app` only answers constant bytes: served by uvicorn (with uvloop and httptools, as the
daemon) and, where installed, by granian, it shows what the HTTP server itself costs per
request before any work of ours. It answers every GET with the gzip copy of the feed file
named by BARE_FEED (read once), its ETag, and 304 when If-None-Match matches.

`route` is the daemon's own feed route (`syndicator.web.feeds.FeedsFirst` over `FeedFiles`
of the directory holding BARE_FEED) with nothing else of the daemon around it: served by
the same two servers, it separates the route's cost from the server's.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from syndicator.web.feeds import FeedFiles, FeedsFirst

FEED = Path(os.environ.get("BARE_FEED", "/dev/null"))
BODY = gzip.compress(FEED.read_bytes(), 9)
ETAG = ('"' + hashlib.sha256(BODY).hexdigest()[:16] + '-gz"').encode()
HEADERS = [(b"content-type", b"application/atom+xml; charset=utf-8"),
           (b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding"), (b"etag", ETAG),
           (b"cache-control", b"public, max-age=300")]
OK = [*HEADERS, (b"content-length", str(len(BODY)).encode())]

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    fresh = any(k == b"if-none-match" and v == ETAG for k, v in scope["headers"])
    await send({"type": "http.response.start", "status": 304 if fresh else 200,
                "headers": HEADERS if fresh else OK})
    await send({"type": "http.response.body", "body": b"" if fresh else BODY})


async def _not_found(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


route = FeedsFirst(_not_found, FeedFiles(FEED.parent))
