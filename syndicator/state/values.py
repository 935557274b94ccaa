"""Named values in the state database (watermarks, cursors, generated secrets)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import sqlalchemy as sa

from syndicator.state.schema import state_values


def get_value(conn: sa.Connection, name: str) -> str | None:
    return conn.scalar(sa.select(state_values.c.value).where(state_values.c.name == name))


def set_value(conn: sa.Connection, name: str, value: str) -> None:
    now = datetime.now(timezone.utc)
    updated = conn.execute(state_values.update().where(state_values.c.name == name)
                           .values(value=value, updated_at=now))
    if updated.rowcount == 0:
        conn.execute(state_values.insert().values(name=name, value=value, updated_at=now))


def acquire_lease(engine: sa.Engine, name: str, owner: str, seconds: int,
                  now: datetime | None = None,
                  is_dead: Callable[[str], bool] = lambda holder: False) -> str | None:
    """Take or renew the lease `name` if free, expired or held by a dead process.

    Returns None when the lease is ours now, else who holds it ("another process" when a
    concurrent taker won the race).
    """
    now = now or datetime.now(timezone.utc)
    key = f"lease.{name}"
    value = f"{owner}|{(now.timestamp() + seconds):.3f}"
    with engine.begin() as conn:
        current = get_value(conn, key)
        if current is None:
            try:
                with conn.begin_nested():
                    conn.execute(state_values.insert().values(name=key, value=value,
                                                              updated_at=now))
                return None
            except sa.exc.IntegrityError:
                return "another process"
        holder, _, until = current.partition("|")
        if holder != owner and float(until or 0) >= now.timestamp() and not is_dead(holder):
            return holder
        taken = conn.execute(state_values.update()
                             .where(state_values.c.name == key, state_values.c.value == current)
                             .values(value=value, updated_at=now))
        return None if taken.rowcount == 1 else "another process"


def release_lease(engine: sa.Engine, name: str, owner: str) -> None:
    """Give the lease up at once (only if we still hold it)."""
    with engine.begin() as conn:
        conn.execute(state_values.update()
                     .where(state_values.c.name == f"lease.{name}",
                            state_values.c.value.startswith(f"{owner}|"))
                     .values(value=f"{owner}|0", updated_at=datetime.now(timezone.utc)))
