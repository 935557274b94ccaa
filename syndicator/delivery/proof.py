"""The proof of what was sent: deliveries as plain dicts for people and programs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from syndicator.state import outbox


def listing(engine: sa.Engine, run_id: int | None = None, email: str | None = None,
            limit: int = 200) -> list[dict[str, Any]]:
    """Deliveries newest first, times as ISO 8601 strings."""
    with engine.connect() as conn:
        rows = outbox.listing(conn, run_id, email, limit)
    return [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in r.items()}
            for r in rows]
