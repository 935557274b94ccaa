"""Which runs are due: a period on demand, immediate notices after a poll, and missed periods."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.errors import TransientError, UsageError
from syndicator.models.period import Period
from syndicator.models.run import RunOutcome
from syndicator.planning import calendar, periods
from syndicator.planning.runs import RunRace, create_run
from syndicator.state import bulletins as bulletin_store
from syndicator.state import leases
from syndicator.state import runs as store
from syndicator.state.values import INGEST_WATERMARK, get_value

RECOVERY_DAYS = 7  # missed periods this recent are created by the recovery tick
RECOVERY = timedelta(days=RECOVERY_DAYS)
_FIRST_IMMEDIATE_LOOKBACK = timedelta(days=7)


class IngestBusy(TransientError):
    """A poll that started before the period's end is still committing its bulletins."""


def schedule(settings: Settings) -> periods.Schedule:
    return periods.schedule(settings.digests, settings.tz)


def last_scheduled(settings: Settings, frequency: str, now: datetime) -> Period:
    """The latest period of `frequency` the schedule ends at or before `now`: daily ones on
    the working calendar when `digests.working_days_only` (weekly ones keep their weekday)."""
    if frequency == "daily":
        return calendar.last_complete_daily(schedule(settings),
                                            calendar.working_calendar(settings.digests), now)
    return periods.last_complete(schedule(settings), frequency, now)


def scheduled_since(settings: Settings, frequency: str, after: datetime,
                    now: datetime) -> list[Period]:
    """Every period of `frequency` the schedule ends in (after, now], oldest first."""
    if frequency == "daily":
        return calendar.daily_periods_ending(schedule(settings),
                                             calendar.working_calendar(settings.digests),
                                             after, now)
    return periods.recent(schedule(settings), frequency, now, (now - after).days)


def upcoming(settings: Settings, frequency: str, first: date,
             days: int) -> list[calendar.ScheduledDigest]:
    """The digests of `frequency` that go out on the `days` days from `first`, with what each
    covers as the schedule gives it (a run made after a change of schedule starts at the
    previous run's end instead: planning/runs.py)."""
    cal = calendar.working_calendar(settings.digests)
    if frequency == "daily":
        return calendar.digest_schedule(schedule(settings), cal, first, days)
    sched = schedule(settings)
    out: list[calendar.ScheduledDigest] = []
    for day in (first + timedelta(days=i) for i in range(days)):
        if periods.WEEKDAYS[day.weekday()] == sched.weekly_on:
            at = datetime.combine(day, sched.weekly_at, tzinfo=sched.tz)
            off = cal.day_off(day) if cal is not None else None
            out.append(calendar.ScheduledDigest(day, periods.last_complete(sched, "weekly", at),
                                                (off,) if off else ()))
    return out


def run_digest(settings: Settings, engine: Engine, frequency: str, now: datetime, *,
               wait_seconds: float = 10.0) -> RunOutcome:
    """Create the run of the last complete period ending at or before `now` (idempotent).

    Waits up to `wait_seconds` for a poll in flight across the period's end to commit, then
    refuses (IngestBusy) rather than create a run that would miss that poll's bulletins for
    good; the recovery tick creates the run once ingest has settled.
    """
    if frequency not in ("daily", "weekly"):
        raise UsageError(f"frequency must be daily or weekly, not {frequency!r}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=settings.tz)
    period = last_scheduled(settings, frequency, now)
    if not _wait_for_ingest(engine, period.end, wait_seconds):
        raise IngestBusy(f"a poll that started before {period.end.isoformat()} is still "
                         f"committing; the {frequency} run was not created (try again, or "
                         "let the daemon's recovery tick create it)")
    return create_run(engine, period, settings.tz, datetime.now(UTC), settings.digests.canary)


def queue_immediate(settings: Settings, engine: Engine,
                    now: datetime | None = None) -> RunOutcome | None:
    """One run for bulletins first seen since the last immediate run, if there are any."""
    now = now or datetime.now(UTC)
    period = immediate_period(engine, now)
    if period is None:
        return None
    return create_run(engine, period, settings.tz, now, settings.digests.canary)


def recover_runs(settings: Settings, engine: Engine, now: datetime) -> list[RunOutcome]:
    """The runs this tick created: periods missed in the last RECOVERY_DAYS while no replica
    was up (or deferred while a poll committed), and immediate notices."""
    created: list[RunOutcome] = []
    when = datetime.now(UTC)
    for frequency in ("daily", "weekly"):
        for period in scheduled_since(settings, frequency, now - RECOVERY, now):
            if not ingest_settled(engine, period.end, when):
                continue  # a poll is still committing bulletins of this period: next tick
            try:
                outcome = create_run(engine, period, settings.tz, when, settings.digests.canary)
            except RunRace:
                continue  # settled by the next tick, which sees the other process's run
            if outcome.created:
                created.append(outcome)
    immediate = queue_immediate(settings, engine, now)
    if immediate is not None and immediate.created:
        created.append(immediate)
    return created


def purge_cutoff(settings: Settings, now: datetime) -> datetime:
    """Final deliveries older than this may be forgotten: never a run the recovery window
    could create again (that would send it again)."""
    keep = max(settings.delivery.retention_days, RECOVERY_DAYS + 1)
    return now - timedelta(days=keep)


def ingest_settled(engine: Engine, end: datetime, now: datetime) -> bool:
    """True when no bulletin first seen before `end` can still be on its way in.

    A poll stamps first_seen_at with its start time but commits later: while a poll that
    started before `end` runs, a run of the period ending at `end` would miss its bulletins.
    """
    with engine.connect() as conn:
        watermark = get_value(conn, INGEST_WATERMARK)
        polling_until = leases.held_until(conn, leases.POLL)
    if watermark is not None and datetime.fromisoformat(watermark) >= end:
        return True
    return polling_until <= now.timestamp()  # no poll in progress


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


def _wait_for_ingest(engine: sa.Engine, end: datetime, timeout: float) -> bool:
    """Let a poll in flight across the period's end commit first; bounded, so a stopping
    daemon is not held up. True once ingest has settled."""
    deadline = time.monotonic() + timeout
    while not ingest_settled(engine, end, datetime.now(UTC)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True
