"""The optional HTTP access log (http.access_log): one structured `http.access` line a request."""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)
_MAX_PATH = 200
_LONG_SEGMENT = 24  # link tokens are longer; no route of ours has a public segment this long


class AccessLog:
    """ASGI middleware: method, path (link tokens hidden), status, bytes sent, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        seen = {"status": 0, "bytes": 0}

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            log.info("http.access", method=scope["method"], path=shown_path(scope),
                     status=seen["status"] or 500, bytes=seen["bytes"],
                     duration_ms=round((time.perf_counter() - start) * 1000, 2),
                     client=(scope.get("client") or ("", 0))[0],
                     user_agent=_header(scope, b"user-agent")[:_MAX_PATH])


def shown_path(scope: Scope) -> str:
    """The path without anything secret: a route's {token} stays a placeholder; in a path no
    route matched, long segments (a mistyped link's token) are cut. No query string."""
    route: Any = scope.get("route")
    params: dict[str, Any] = scope.get("path_params") or {}
    if route is not None and hasattr(route, "path_format"):
        shown = {k: "{token}" if k == "token" else str(v) for k, v in params.items()}
        return str(route.path_format.format(**shown))[:_MAX_PATH]
    segments = str(scope.get("path", "")).split("/")
    return "/".join(s if len(s) < _LONG_SEGMENT else "…" for s in segments)[:_MAX_PATH]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""
