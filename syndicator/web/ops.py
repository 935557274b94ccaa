"""Operator routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from syndicator.telemetry import metrics
from syndicator.telemetry.health import Health

_NO_STORE = {"Cache-Control": "no-store"}


def routes(health: Health) -> list[BaseRoute]:
    """/healthz/live, /healthz/ready and /metrics, reading the daemon's Health."""

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

    async def metrics_text(_: Request) -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE, headers=_NO_STORE)

    return [
        Route("/healthz/live", live, methods=["GET", "HEAD"]),
        Route("/healthz/ready", ready, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_text, methods=["GET"]),
    ]
