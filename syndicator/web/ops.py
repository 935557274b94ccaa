"""Operator routes: liveness, readiness and Prometheus metrics (apart or behind a token)."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from syndicator.telemetry import metrics
from syndicator.telemetry.health import Health

_NO_STORE = {"Cache-Control": "no-store"}


def routes(health: Health, *, with_metrics: bool = True,
           metrics_token: str | None = None) -> list[BaseRoute]:
    """/healthz/live, /healthz/ready and (unless served on its own port) /metrics."""

    async def live(_: Request) -> Response:
        # Answering at all proves the event loop runs.
        return JSONResponse({"status": "alive"}, headers=_NO_STORE)

    async def ready(_: Request) -> Response:
        problems = health.problems()
        metrics.ready(not problems)
        if problems:
            return JSONResponse({"status": "not ready", "reasons": problems}, status_code=503,
                                headers=_NO_STORE)
        return JSONResponse({"status": "ready"}, headers=_NO_STORE)

    found: list[BaseRoute] = [
        Route("/healthz/live", live, methods=["GET", "HEAD"]),
        Route("/healthz/ready", ready, methods=["GET", "HEAD"]),
    ]
    return [*found, metrics_route(metrics_token)] if with_metrics else found


def metrics_route(token: str | None) -> Route:
    """GET /metrics; with a token, only for `Authorization: Bearer <token>` (Prometheus's
    `authorization` scrape setting), 401 otherwise."""
    expected = f"Bearer {token}".encode() if token else None

    async def metrics_text(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if expected is not None and not hmac.compare_digest(given, expected):
            return PlainTextResponse("Unauthorized\n", status_code=401, headers={
                **_NO_STORE, "WWW-Authenticate": 'Bearer realm="metrics"'})
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE, headers=_NO_STORE)

    return Route("/metrics", metrics_text, methods=["GET"])
