"""Outbox upkeep: claims of dead processes retried at once, old final deliveries forgotten."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from syndicator.state import leases, outbox

log = structlog.get_logger(__name__)


def reclaim_dead_leases(engine: sa.Engine) -> int:
    """Claims of a killed process on this host are retried now, not after their lease."""
    now = datetime.now(UTC)
    with engine.connect() as conn:
        dead = [o for o in outbox.live_lease_owners(conn, now) if leases.is_dead_local(o)]
    if not dead:
        return 0
    with engine.begin() as conn:
        count = outbox.expire_leases(conn, dead, now)
    log.info("delivery.leases_reclaimed", deliveries=count, owners=len(dead))
    return count


def purge(engine: sa.Engine, cutoff: datetime) -> int:
    """Forget final deliveries (and then empty runs) created before `cutoff`."""
    with engine.begin() as conn:
        return outbox.purge_older_than(conn, cutoff)
