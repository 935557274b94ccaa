"""Named values in the state database (watermarks, cursors, generated secrets)."""

from __future__ import annotations

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


def acquire_lease(engine: sa.Engine, name: str, owner: str, seconds: int) -> bool:
    """Take a named lease if free or expired (one poller among replicas); True if ours."""
    now = datetime.now(timezone.utc)
    value = f"{owner}|{(now.timestamp() + seconds):.3f}"
    key = f"lease.{name}"
    with engine.begin() as conn:
        current = get_value(conn, key)
        if current is None:
            try:
                with conn.begin_nested():
                    conn.execute(state_values.insert().values(name=key, value=value,
                                                              updated_at=now))
                return True
            except sa.exc.IntegrityError:
                return False
        holder, _, until = current.partition("|")
        if holder != owner and float(until or 0) > now.timestamp():
            return False
        taken = conn.execute(state_values.update()
                             .where(state_values.c.name == key, state_values.c.value == current)
                             .values(value=value, updated_at=now))
        return taken.rowcount == 1


def release_lease(engine: sa.Engine, name: str, owner: str) -> None:
    with engine.begin() as conn:
        conn.execute(state_values.update()
                     .where(state_values.c.name == f"lease.{name}",
                            state_values.c.value.startswith(f"{owner}|"))
                     .values(value=f"{owner}|0", updated_at=datetime.now(timezone.utc)))
