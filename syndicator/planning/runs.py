"""Creating a digest run: one per period, never overlapping another, with one delivery per
recipient and a first copy for each canary address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.errors import TransientError
from syndicator.models.period import Period
from syndicator.models.run import Run, RunOutcome
from syndicator.planning.audience import (
    Audience,
    Content,
    canary_content,
    plan,
    public_digest_id,
    slug_lookup,
)
from syndicator.state import bulletins as bulletin_store
from syndicator.state import runs as store
from syndicator.state.outbox import CANARY, PRIORITY_CANARY

log = structlog.get_logger(__name__)


class RunRace(TransientError):
    """Another process made an overlapping run at the same moment (a rolling restart across
    a schedule change); the next tick sees it and plans around it."""


def create_run(engine: Engine, period: Period, tz: ZoneInfo, now: datetime,
               canary: Sequence[str] = ()) -> RunOutcome:
    """Create the run of a period with its deliveries in one transaction; idempotent.

    The period as the schedule gives it starts no earlier than the previous run's end, and a
    run that already covers its end is the run of this period: switching the working
    calendar on or off, or moving `daily_at`, never makes runs that overlap.

    Two processes may create the same period at once: the unique (frequency, period_start)
    and (frequency, period_end) let one insert win, and the other reads the winner's run in a
    fresh transaction (MariaDB snapshots).
    """
    for _ in range(2):
        with engine.begin() as conn:
            existing = store.run_covering(conn, period.frequency, period.end)
            if existing is not None:
                return _found(existing)
            settled = _after_previous(conn, period)
            run_id = store.insert_run(conn, settled.frequency, settled.start, settled.end, now)
            if run_id is not None:
                return _populated(conn, run_id, settled, tz, now, canary)
        with engine.connect() as conn:  # the winner is committed: read it afresh
            existing = store.run_covering(conn, period.frequency, period.end)
        if existing is not None:
            return _found(existing)
    raise RunRace(f"another process made a {period.frequency} run overlapping "
                  f"{period.start.isoformat()} .. {period.end.isoformat()}; trying again later")


def _after_previous(conn: sa.Connection, period: Period) -> Period:
    previous_end = store.latest_end_before(conn, period.frequency, period.end)
    if previous_end is not None and previous_end > period.start:
        return replace(period, start=previous_end)
    return period


def _found(run: Run) -> RunOutcome:
    return RunOutcome(run.id, run.frequency, run.period_start, run.period_end, False, -1,
                      run.status)


def _populated(conn: sa.Connection, run_id: int, period: Period, tz: ZoneInfo, now: datetime,
               canary: Sequence[str]) -> RunOutcome:
    count = _populate(conn, run_id, period, tz, now, canary)
    status = "sending" if count else "complete"
    store.set_run_status(conn, run_id, status, now)
    log.info("delivery.run_created", run_id=run_id, frequency=period.frequency,
             period_start=period.start.isoformat(), period_end=period.end.isoformat(),
             deliveries=count)
    return RunOutcome(run_id, period.frequency, period.start, period.end, True, count, status)


def _populate(conn: sa.Connection, run_id: int, period: Period, tz: ZoneInfo, now: datetime,
              canary: Sequence[str]) -> int:
    """The run's contents, one pending delivery per subscriber who gets something, and one
    copy of everything they get for each canary address (claimed first)."""
    bulletins = bulletin_store.announceable_seen_between(conn, period.start, period.end)
    if not bulletins:
        return 0
    audience = (Audience(r.id, tuple(r.categories or ()), r.confirmed_at or r.created_at)
                for r in store.audience_rows(conn, period.frequency))
    count = 0
    contents: dict[str, int] = {}
    planned = plan(bulletins, list(audience), slug_lookup(bulletin_store.category_slugs(conn)))
    for content in planned:
        contents[content.key] = _insert_content(conn, run_id, period, tz, content, now)
        store.insert_deliveries(conn, run_id, contents[content.key], content.subscriber_ids,
                                now)
        count += len(content.subscriber_ids)
    union = canary_content(planned)
    if union is not None and canary:
        content_id = contents.get(union.key) or _insert_content(conn, run_id, period, tz,
                                                                union, now)
        store.insert_copies(conn, run_id, content_id, canary, CANARY, PRIORITY_CANARY, now)
        count += len(canary)
    return count


def _insert_content(conn: sa.Connection, run_id: int, period: Period, tz: ZoneInfo,
                    content: Content, now: datetime) -> int:
    digest_id = public_digest_id(period.frequency, run_id, period.end.astimezone(tz),
                                 content.key)
    return store.insert_content(conn, run_id, digest_id, content.key, content.bulletin_ids, now)
