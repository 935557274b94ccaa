"""/metrics behind a bearer token on the public port (http.metrics_token without a port)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from syndicator.telemetry.health import Health
from syndicator.web import ops


async def test_metrics_answer_only_the_bearer_of_the_token() -> None:
    app = Starlette(routes=ops.routes(Health(), metrics_token="t0ken"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/metrics")).status_code == 401
        assert (await c.get("/metrics", headers={"authorization": "t0ken"})).status_code == 401
        ok = await c.get("/metrics", headers={"authorization": "Bearer t0ken"})
        assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"
        assert (await c.get("/healthz/live")).status_code == 200  # health stays open


async def test_without_a_token_metrics_stay_open_and_apart_they_are_absent() -> None:
    open_app = Starlette(routes=ops.routes(Health()))
    apart = Starlette(routes=ops.routes(Health(), with_metrics=False))
    for app, status in ((open_app, 200), (apart, 404)):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/metrics")).status_code == status
