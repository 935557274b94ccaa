"""Reads what the feeds need from our state database: every bulletin, in arrival order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from syndicator.models.bulletin import Bulletin
from syndicator.state import content_json, versions
from syndicator.state.schema import bulletins

_JSON = ("categories", "category_slugs", "document", "attachments")  # decoded from JSON
_FIELDS = tuple(f for f in Bulletin.__dataclass_fields__
                if f not in _JSON and f in bulletins.c)
_COLUMNS = (*_FIELDS, "categories", "document", "attachments")


def all_in_arrival_order(conn: sa.Connection) -> list[Bulletin]:
    """Public and withdrawn bulletins by our id (the order we first saw them; never reused),
    each public one with the time of its last correction in substance, if any."""
    query = sa.select(*(bulletins.c[f] for f in _COLUMNS)).order_by(bulletins.c.id)
    found = [_bulletin(row) for row in conn.execute(query)]
    corrected = {i: v.created_at for i, v in versions.latest_of(
        conn, [b.id for b in found if b.state == "public"]).items() if v.state == "public"}
    return [replace(b, corrected_at=corrected[b.id]) if b.id in corrected else b
            for b in found]


def _bulletin(row: Any) -> Bulletin:
    return Bulletin(**{f: getattr(row, f) for f in _FIELDS}, **content_json.decode(row))
