"""Creating digest runs: one per (frequency, period start), with one delivery per recipient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.periods import Period
from syndicator.delivery.planning import Audience, plan, public_digest_id
from syndicator.state import bulletins as bulletin_store
from syndicator.state import runs as store
from syndicator.state.values import get_value

log = structlog.get_logger(__name__)

INGEST_WATERMARK = "ingest.watermark"  # written by ingest with the first_seen_at of its inserts
POLL_LEASE = "lease.poll"  # held by syndicator.services.poll_once while a poll runs
_FIRST_IMMEDIATE_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class RunOutcome:
    """A run as found or created; `created` is False when it already existed."""

    run_id: int
    frequency: str
    period_start: datetime
    period_end: datetime
    created: bool
    deliveries: int
    status: str


def create_run(engine: Engine, period: Period, tz: ZoneInfo, now: datetime) -> RunOutcome:
    """Create the run of a period with its deliveries in one transaction; idempotent."""
    with engine.begin() as conn:
        existing = store.get_run(conn, period.frequency, period.start)
        if existing is None:
            run_id = store.insert_run(conn, period.frequency, period.start, period.end, now)
            if run_id is not None:
                count = _populate(conn, run_id, period, tz, now)
                status = "sending" if count else "complete"
                store.set_run_status(conn, run_id, status, now)
                log.info("delivery.run_created", run_id=run_id, frequency=period.frequency,
                         period_start=period.start.isoformat(), deliveries=count)
                return RunOutcome(run_id, period.frequency, period.start, period.end, True,
                                  count, status)
    # Another process created it first; read it in a fresh transaction (MariaDB snapshots).
    with engine.connect() as conn:
        run = existing or store.get_run(conn, period.frequency, period.start)
    assert run is not None
    return RunOutcome(run.id, run.frequency, run.period_start, run.period_end, False, -1,
                      run.status)


def _populate(conn: sa.Connection, run_id: int, period: Period, tz: ZoneInfo,
              now: datetime) -> int:
    bulletins = bulletin_store.announceable_seen_between(conn, period.start, period.end)
    if not bulletins:
        return 0
    audience = (Audience(r.id, tuple(r.categories or ()), r.confirmed_at or r.created_at)
                for r in store.audience_rows(conn, period.frequency))
    count = 0
    end_local = period.end.astimezone(tz)
    for content in plan(bulletins, list(audience)):
        digest_id = public_digest_id(period.frequency, run_id, end_local, content.key)
        content_id = store.insert_content(conn, run_id, digest_id, content.key,
                                          content.bulletin_ids, now)
        store.insert_deliveries(conn, run_id, content_id, content.subscriber_ids, now)
        count += len(content.subscriber_ids)
    return count


def ingest_settled(engine: Engine, end: datetime, now: datetime) -> bool:
    """True when no bulletin first seen before `end` can still be on its way in.

    A poll stamps first_seen_at with its start time but commits later: while a poll that
    started before `end` runs, a run of the period ending at `end` would miss its bulletins.
    """
    with engine.connect() as conn:
        watermark = get_value(conn, INGEST_WATERMARK)
        lease = get_value(conn, POLL_LEASE)
    if watermark is not None and datetime.fromisoformat(watermark) >= end:
        return True
    until = float((lease or "|0").partition("|")[2] or 0)
    return until <= now.timestamp()  # no poll in progress


def immediate_period(engine: Engine, now: datetime) -> Period | None:
    """Bulletins first seen since the last immediate run, up to what ingest has committed.

    Derived from the database (the ingest watermark and first_seen_at), never from a poll's
    memory, so a crash between a poll and this call loses nothing.
    """
    with engine.connect() as conn:
        watermark = get_value(conn, INGEST_WATERMARK)
        if watermark is None:
            return None
        # Ingest writes first_seen_at = its watermark in the same commit: all before it is in.
        end = min(datetime.fromisoformat(watermark), now) + timedelta(microseconds=1)
        start = store.latest_end(conn, "immediate") or end - _FIRST_IMMEDIATE_LOOKBACK
        if start >= end or not bulletin_store.any_announceable_seen_between(conn, start, end):
            return None
    return Period("immediate", start, end)
