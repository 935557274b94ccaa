"""Creating a digest run: one per (frequency, period start), with one delivery per recipient."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.models.period import Period
from syndicator.models.run import RunOutcome
from syndicator.planning.audience import Audience, plan, public_digest_id
from syndicator.state import bulletins as bulletin_store
from syndicator.state import runs as store

log = structlog.get_logger(__name__)


def create_run(engine: Engine, period: Period, tz: ZoneInfo, now: datetime) -> RunOutcome:
    """Create the run of a period with its deliveries in one transaction; idempotent.

    Two processes may create the same period at once: the unique (frequency, period_start)
    lets one insert win, and the other reads the winner's run in a fresh transaction.
    """
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
    assert run is not None  # the insert failed on the unique key: the row exists
    return RunOutcome(run.id, run.frequency, run.period_start, run.period_end, False, -1,
                      run.status)


def _populate(conn: sa.Connection, run_id: int, period: Period, tz: ZoneInfo,
              now: datetime) -> int:
    """The run's contents and one pending delivery per subscriber who gets something."""
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
