"""What every page does at the edges: bodies larger than the route needs (413 before they are
read), forms with file parts (400), and a state database that is away (503, logged once)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syndicator.errors import StateError
from syndicator.telemetry import metrics
from syndicator.telemetry.health import Health

KB = 1024
FORM_BODY = 64 * KB  # the largest subscriber form (100 categories) is under 20 KB
MAX_BODY = 1024 * KB  # the contract's ceiling anywhere: the console's CSV import
RETRY_AFTER = "30"  # seconds: the heartbeat probes the database every 5
STATE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, StateError)
# (problem, status) -> the Vietnamese page for it
PageFor = Callable[[Request, str, int], Response]


def body_limit(path: str) -> int:
    """What a route may receive: forms much less than the ceiling, the console its import."""
    return MAX_BODY if path == "/admin" or path.startswith("/admin/") else FORM_BODY


class BodyTooLarge(Exception):
    """A body passed its route's limit while it was being received (chunked, or a lying
    Content-Length)."""


class BodyLimit:
    """ASGI: 413 when Content-Length says too much, before anything is read; a body without
    one (chunked) is counted as it arrives and refused once past the limit."""

    def __init__(self, app: ASGIApp, page: PageFor) -> None:
        self.app, self.page = app, page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send)
            return
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(scope["path"])
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics.page_refused("body_too_large")
        response = self.page(Request(scope), "body_too_large", 413)
        response.headers["Connection"] = "close"  # the rest of the body is never read
        await response(scope, receive, send)


class StateDownPages:
    """ASGI: a state database that is away gives a 503 page with Retry-After, never a bare
    500; the outage is logged once as it starts (Health.database), not once per request."""

    def __init__(self, app: ASGIApp, page: PageFor, health: Health) -> None:
        self.app, self.page, self.health = app, page, health

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except STATE_DOWN as exc:
            if started:
                raise
            self.health.database(False, _reason(exc))
            metrics.page_refused("state_down")
            response = self.page(Request(scope), "state_down", 503)
            response.headers["Retry-After"] = RETRY_AFTER
            await response(scope, receive, send)


def _reason(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]
