"""Named leases in the state database, and who holds them: this process, or a dead one."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from syndicator.state.schema import state_values
from syndicator.state.values import get_value

# The leases there are. A lease is the state value "lease.<name>" = "<owner>|<unix until>".
POLL = "poll"  # one poll at a time per state database
SENDER = "sender"  # one sender at a time on SQLite (no row locks to share the outbox)
RETURNS = "returns"  # one reader of the bounce mailbox at a time (bounces.imap)
DAEMON = "daemon"  # one `syndicator run` per SQLite state database


def _place() -> str:
    """Where a pid means one process: this host, kernel boot and pid namespace.

    Containers often share a hostname (host networking, a compose `hostname:`) and each
    runs as pid 1 in its own namespace: a pid is only comparable inside one namespace.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
        namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:  # no /proc (not Linux): the host name is all we know
        return socket.gethostname()[:60]
    return f"{socket.gethostname()[:60]}@{boot}.{namespace}"


# place:pid:nonce - the nonce tells this process from an earlier one that had the same pid
# (a restarted container is often pid 1 again).
PLACE = _place()
OWNER = f"{PLACE}:{os.getpid()}:{secrets.token_hex(4)}"


def is_dead_local(owner: str) -> bool:
    """True only when `owner` ran in this pid namespace and that process is certainly gone."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != PLACE or not parts[1].isdigit():
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


def key(name: str) -> str:
    """The state value that holds the lease `name`."""
    return f"lease.{name}"


def acquire(engine: sa.Engine, name: str, seconds: float, now: datetime | None = None, *,
            owner: str = OWNER,
            is_dead: Callable[[str], bool] = is_dead_local) -> str | None:
    """Take or renew the lease `name` if free, expired or held by a dead process.

    Returns None when the lease is ours now, else who holds it ("another process" when a
    concurrent taker won the race).
    """
    now = now or datetime.now(UTC)
    value = f"{owner}|{(now.timestamp() + seconds):.3f}"
    with engine.begin() as conn:
        current = get_value(conn, key(name))
        if current is None:
            try:
                with conn.begin_nested():
                    conn.execute(state_values.insert().values(name=key(name), value=value,
                                                              updated_at=now))
                return None
            except sa.exc.IntegrityError:
                return "another process"
        holder, _, until = current.partition("|")
        if holder != owner and float(until or 0) >= now.timestamp() and not is_dead(holder):
            return holder
        taken = conn.execute(state_values.update()
                             .where(state_values.c.name == key(name),
                                    state_values.c.value == current)
                             .values(value=value, updated_at=now))
        return None if taken.rowcount == 1 else "another process"


def release(engine: sa.Engine, name: str, owner: str = OWNER) -> None:
    """Give the lease up at once (only if `owner` still holds it)."""
    with engine.begin() as conn:
        conn.execute(state_values.update()
                     .where(state_values.c.name == key(name),
                            state_values.c.value.startswith(f"{owner}|"))
                     .values(value=f"{owner}|0", updated_at=datetime.now(UTC)))


def held_until(conn: sa.Connection, name: str) -> float:
    """Unix time the lease `name` runs until (0 when never taken or released)."""
    value = get_value(conn, key(name)) or "|0"
    return float(value.partition("|")[2] or 0)
