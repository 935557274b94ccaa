"""Who holds a claim: process identities, dead local holders, and the SQLite single-sender lease."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from syndicator.state.values import acquire_lease, release_lease


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
SENDER = "sender"
SENDER_LEASE = f"lease.{SENDER}"  # its row in state_values


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


def take_sender_lease(engine: sa.Engine, seconds: int, now: datetime) -> str | None:
    """Take or renew the one-sender lease (SQLite); None if ours, else who holds it."""
    return acquire_lease(engine, SENDER, OWNER, seconds, now, is_dead=is_dead_local)


def drop_sender_lease(engine: sa.Engine, now: datetime) -> None:
    release_lease(engine, SENDER, OWNER)
