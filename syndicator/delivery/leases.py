"""Who holds a claim: process identities, dead local holders, and the SQLite single-sender lease."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa

from syndicator.state.schema import state_values
from syndicator.state.values import get_value

# host:pid:nonce - the nonce tells this process from an earlier one that had the same pid
# (a restarted container is often pid 1 again).
OWNER = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"
SENDER_LEASE = "lease.sender"


def is_dead_local(owner: str) -> bool:
    """True only when `owner` ran on this host and that process is certainly gone."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname()[:80] or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return owner != OWNER
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def take_sender_lease(engine: sa.Engine, seconds: int, now: datetime) -> str | None:
    """Take or renew the one-sender lease (SQLite); None if ours, else who holds it."""
    value = f"{OWNER}|{(now + timedelta(seconds=seconds)).timestamp():.3f}"
    with engine.begin() as conn:
        current = get_value(conn, SENDER_LEASE)
        if current is None:
            try:
                with conn.begin_nested():
                    conn.execute(state_values.insert().values(name=SENDER_LEASE, value=value,
                                                              updated_at=now))
                return None
            except sa.exc.IntegrityError:
                return "another process"
        holder, _, until = current.partition("|")
        free = holder == OWNER or float(until or 0) < now.timestamp() or is_dead_local(holder)
        if not free:
            return holder
        taken = conn.execute(state_values.update().where(state_values.c.name == SENDER_LEASE,
                                                         state_values.c.value == current)
                             .values(value=value, updated_at=now))
        return None if taken.rowcount == 1 else "another process"


def drop_sender_lease(engine: sa.Engine, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(state_values.update().where(state_values.c.name == SENDER_LEASE,
                                                 state_values.c.value.startswith(f"{OWNER}|"))
                     .values(value=f"{OWNER}|0", updated_at=now))
