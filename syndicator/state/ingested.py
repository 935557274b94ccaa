"""Our copy of the bulletins as the console lists it: what was ingested, newest first, by key."""

from __future__ import annotations

import sqlalchemy as sa

from syndicator.models.bulletin import Bulletin
from syndicator.state.bulletins import _bulletin
from syndicator.state.schema import bulletins


def page(conn: sa.Connection, limit: int, *, before: int | None = None, text: str = "",
         state: str = "") -> list[Bulletin]:
    """Newest ingested first (our id grows with first_seen_at), older than id `before`."""
    query = sa.select(bulletins).order_by(bulletins.c.id.desc()).limit(limit)
    if before is not None:
        query = query.where(bulletins.c.id < before)
    if text.strip():
        t = text.strip()
        query = query.where(sa.or_(bulletins.c.title.contains(t, autoescape=True),
                                   bulletins.c.source_id == t))
    if state:
        query = query.where(bulletins.c.state == state)
    return [_bulletin(r) for r in conn.execute(query)]


def get(conn: sa.Connection, bulletin_id: int) -> Bulletin | None:
    row = conn.execute(sa.select(bulletins).where(bulletins.c.id == bulletin_id)).first()
    return _bulletin(row) if row else None
