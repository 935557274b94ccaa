"""Named values in the state database (watermarks, cursors, generated secrets)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from syndicator.state.schema import state_values

# Written by ingest in the same commit as the first_seen_at of what it inserts; read by the
# planner to know what ingest has committed.
INGEST_WATERMARK = "ingest.watermark"
# The last poll's summary (models.poll.PollSummary), written by runtime/poll.py for the console.
LAST_POLL = "poll.last"
# A new random token in the same transaction as every change to our bulletins (ingest): what
# replicas compare to know the feeds are stale, without scanning the table.
BULLETINS_CHANGED = "bulletins.changed"


def get_value(conn: sa.Connection, name: str) -> str | None:
    return conn.scalar(sa.select(state_values.c.value).where(state_values.c.name == name))


def set_value(conn: sa.Connection, name: str, value: str) -> None:
    now = datetime.now(UTC)
    updated = conn.execute(state_values.update().where(state_values.c.name == name)
                           .values(value=value, updated_at=now))
    if updated.rowcount == 0:
        conn.execute(state_values.insert().values(name=name, value=value, updated_at=now))


def insert_once(conn: sa.Connection, name: str, value: str) -> bool:
    """Record `name` unless some process already did: True for the one that did it now
    (the primary key decides between replicas)."""
    try:
        with conn.begin_nested():
            conn.execute(state_values.insert().values(name=name, value=value,
                                                      updated_at=datetime.now(UTC)))
    except sa.exc.IntegrityError:
        return False
    return True
