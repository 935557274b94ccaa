"""Web copies of sent digests: /digests/<id>[?size=large] re-renders what was mailed."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from syndicator.models.message import Digest
from syndicator.state import corrections, runs
from syndicator.web.view import View

_MAX_ID = 64  # the column's length; longer ids cannot exist
HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer"}


class DigestCopies:
    """Loads a sent digest's content and renders it in either text size."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._engine = engine
        self._composer = DigestComposer(settings)
        self._view = View(settings)

    async def show(self, request: Request) -> Response:
        large = request.query_params.get("size") == "large"
        digest = await asyncio.to_thread(self.load, request.path_params["digest_id"])
        if digest is None:
            return self._view.page(request, "problem.html.j2", large=large, status=404,
                                   problem="digest_missing")
        return HTMLResponse(self._composer.web_copy(digest, large=large), headers=HEADERS)

    def load(self, digest_id: str) -> Digest | None:
        """The digest as sent, less bulletins withdrawn since, with a banner naming those
        corrected or withdrawn since (docs/adr/018); None if nothing is left."""
        if len(digest_id) > _MAX_ID:
            return None
        with self._engine.connect() as conn:
            row = runs.content_by_digest_id(conn, digest_id)
            digest = runs.sent_digest(conn, row)
            if digest is None or row is None:
                return None
            notes = corrections.since_first(conn, [int(i) for i in row.bulletin_ids])
        return replace(digest, corrections=notes)


def routes(settings: Settings, engine: Engine) -> list[BaseRoute]:
    copies = DigestCopies(settings, engine)
    return [Route("/digests/{digest_id}", copies.show, methods=["GET", "HEAD"])]
