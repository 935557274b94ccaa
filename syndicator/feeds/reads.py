"""Reads what the feeds need from our state database: every bulletin, in arrival order."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from syndicator.models.bulletin import Bulletin
from syndicator.state.schema import bulletins

_FIELDS = tuple(Bulletin.__dataclass_fields__)


def all_in_arrival_order(conn: sa.Connection) -> list[Bulletin]:
    """Public and withdrawn bulletins by our id (the order we first saw them; never reused)."""
    query = sa.select(*(bulletins.c[f] for f in _FIELDS)).order_by(bulletins.c.id)
    return [_bulletin(row) for row in conn.execute(query)]


def _bulletin(row: Any) -> Bulletin:
    return Bulletin(**{f: getattr(row, f) for f in _FIELDS})
