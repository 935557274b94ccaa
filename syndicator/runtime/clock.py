"""Time going backwards: noticed against our own stamps, said loudly once, repaired at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.ingest.fresh import NEW_ROWS, FreshState
from syndicator.ingest.skipped import SWEEP_STARTED
from syndicator.state import rewind
from syndicator.state.values import INGEST_WATERMARK
from syndicator.telemetry import metrics

log = structlog.get_logger(__name__)

# Replicas' clocks differ by a little, and a stamp written a moment ago by another replica is
# not time going backwards. Less than this in the future does no harm worth a repair.
TOLERANCE = timedelta(minutes=2)


def check_clock(settings: Settings, engine: Engine,
                now: datetime | None = None) -> rewind.Repair | None:
    """Repair our state if some clock wrote it later than `now` (the real clock, never
    `digest run --now`); None when time did not go backwards."""
    now = now or datetime.now(UTC)
    if not _ahead(engine, now):
        return None
    with engine.begin() as conn:
        newest = rewind.newest_stamp(conn)
        if newest is None or newest <= now + TOLERANCE:
            return None  # another replica repaired it meanwhile
        done = rewind.repair(conn, now, settings.delivery.lease_seconds)
        for name, value, written in rewind.future_values(conn, now):
            rewind.put_value(conn, name, _value_at(settings, name, value, written, now), now)
            done.values.append(name)
    log.error("clock.went_back", now=now.isoformat(), stamps_until=newest.isoformat(),
              behind_seconds=int((newest - now).total_seconds()), runs_cut=done.runs_cut,
              runs_set_aside=done.runs_set_aside, bulletins=done.bulletins,
              subscribers=done.subscribers, deliveries=done.deliveries,
              values=",".join(sorted(done.values)))
    metrics.clock_went_back()
    return done


def _ahead(engine: Engine, now: datetime) -> bool:
    with engine.connect() as conn:
        newest = rewind.newest_stamp(conn)
    return newest is not None and newest > now + TOLERANCE


def _value_at(settings: Settings, name: str, value: str, written: datetime,
              now: datetime) -> str:
    """A named value as it should read at `now`."""
    if name == INGEST_WATERMARK:
        # The window read nothing real while the clock was ahead: look back over the hot days
        # once (the hot set and the new-id watch cover them anyway).
        return (now - timedelta(days=settings.ingest.hot_days)).isoformat()
    if name == SWEEP_STARTED:
        return now.isoformat()
    if name == NEW_ROWS:
        state = FreshState.load(value)
        return state.clamped(now).dump() if state else value
    if name.startswith("lease."):  # owner|until: the same time left as when it was taken
        owner, _, until = value.partition("|")
        left = max(0.0, float(until or 0) - written.timestamp())
        return f"{owner}|{(now.timestamp() + left) if float(until or 0) else 0:.3f}"
    return value
