"""What a statement gave back, typed: the id of an inserted row, a counted scalar."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from syndicator.errors import StateError


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an INSERT made."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise StateError("the state database returned no id for a new row")
    return int(key[0])
