"""Web copies of sent digests: /digests/<id>[?size=large] re-renders what was mailed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from syndicator.models.correction import Correction
from syndicator.models.message import Digest
from syndicator.state import corrections, runs
from syndicator.web.view import View

_MAX_ID = 64  # the column's length; longer ids cannot exist
HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class Copy:
    digest: Digest | None  # None: every bulletin it carried was withdrawn since
    notes: tuple[Correction, ...]  # its bulletins corrected or withdrawn since it was sent


class DigestCopies:
    """Loads a sent digest's content and renders it in either text size."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._engine = engine
        self._composer = DigestComposer(settings)
        self._view = View(settings)
        self._tz = settings.tz

    async def show(self, request: Request) -> Response:
        large = request.query_params.get("size") == "large"
        copy = await asyncio.to_thread(self.load, request.path_params["digest_id"])
        if copy is None:
            return self._view.page(request, "problem.html.j2", large=large, status=404,
                                   problem="digest_missing")
        if copy.digest is None:  # 410: it existed, and what it carried was taken back
            withdrawn = [(c.title, f"{c.changed_at.astimezone(self._tz):%d/%m/%Y}")
                         for c in copy.notes]
            return self._view.page(request, "problem.html.j2", large=large, status=410,
                                   problem="digest_withdrawn", withdrawn=withdrawn)
        return HTMLResponse(self._composer.web_copy(copy.digest, large=large), headers=HEADERS)

    def load(self, digest_id: str) -> Copy | None:
        """The digest as sent, less bulletins withdrawn since, with a banner naming those
        corrected or withdrawn since (docs/adr/018); None if it never existed, or nothing is
        left of it and no withdrawal was recorded."""
        if len(digest_id) > _MAX_ID:
            return None
        with self._engine.connect() as conn:
            row = runs.content_by_digest_id(conn, digest_id)
            if row is None:
                return None
            digest = runs.sent_digest(conn, row)
            notes = corrections.since_first(conn, [int(i) for i in row.bulletin_ids])
        if digest is None:
            withdrawn = tuple(c for c in notes if c.withdrawn)
            return Copy(None, withdrawn) if withdrawn else None
        return Copy(replace(digest, corrections=notes), notes)


def routes(settings: Settings, engine: Engine) -> list[BaseRoute]:
    copies = DigestCopies(settings, engine)
    return [Route("/digests/{digest_id}", copies.show, methods=["GET", "HEAD"])]
