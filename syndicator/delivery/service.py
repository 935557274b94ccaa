"""Delivery entry points for the CLI and the daemon: create runs, recover, send what is due."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import structlog

from syndicator import periods
from syndicator.delivery import leases
from syndicator.delivery.report import DeliverReport
from syndicator.delivery.runs import RunOutcome, create_run, immediate_period, ingest_settled
from syndicator.delivery.sender import Sender
from syndicator.delivery.transport import make_transport
from syndicator.errors import StateError, SyndicatorError, TransientError, UsageError
from syndicator.settings import Settings
from syndicator.state import outbox

log = structlog.get_logger(__name__)

RECOVERY_DAYS = 7
PURGE_EVERY = 3600.0  # seconds between retention purges in one process
_last_purge = -PURGE_EVERY


# What callers of the service see of a run: the outcome create_run returns.
RunReport = RunOutcome


@dataclass
class RecoveryReport:
    runs: list[RunReport] = field(default_factory=list)
    leases_reclaimed: int = 0
    purged: int = 0


class SenderBusy(SyndicatorError):
    """Another process is sending from this SQLite database."""


class IngestBusy(TransientError):
    """A poll that started before the period's end is still committing its bulletins."""


def schedule(settings: Settings) -> periods.Schedule:
    return periods.schedule(settings.digests, settings.tz)


def run_digest(settings: Settings, engine: sa.Engine, frequency: str, now: datetime, *,
               wait_seconds: float = 10.0) -> RunReport:
    """Create the run of the last complete period ending at or before `now` (idempotent).

    Waits up to `wait_seconds` for a poll in flight across the period's end to commit, then
    refuses (IngestBusy) rather than create a run that would miss that poll's bulletins for
    good; the recovery tick creates the run once ingest has settled.
    """
    if frequency not in ("daily", "weekly"):
        raise UsageError(f"frequency must be daily or weekly, not {frequency!r}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=settings.tz)
    period = periods.last_complete(schedule(settings), frequency, now)
    if not _wait_for_ingest(engine, period.end, wait_seconds):
        raise IngestBusy(f"a poll that started before {period.end.isoformat()} is still "
                         f"committing; the {frequency} run was not created (try again, or "
                         "let the daemon's recovery tick create it)")
    return create_run(engine, period, settings.tz, datetime.now(timezone.utc))


def _wait_for_ingest(engine: sa.Engine, end: datetime, timeout: float) -> bool:
    """Let a poll in flight across the period's end commit first; bounded, so a stopping
    daemon is not held up. True once ingest has settled."""
    deadline = time.monotonic() + timeout
    while not ingest_settled(engine, end, datetime.now(timezone.utc)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def queue_immediate(settings: Settings, engine: sa.Engine,
                    now: datetime | None = None) -> RunReport | None:
    """One run for bulletins first seen since the last immediate run, if there are any."""
    now = now or datetime.now(timezone.utc)
    period = immediate_period(engine, now)
    if period is None:
        return None
    return create_run(engine, period, settings.tz, now)


def create_due_runs(settings: Settings, engine: sa.Engine, now: datetime) -> RecoveryReport:
    """The recovery tick: runs missed in the last 7 days, immediate runs, dead or expired leases."""
    report = RecoveryReport()
    when = datetime.now(timezone.utc)
    for frequency in ("daily", "weekly"):
        for period in periods.recent(schedule(settings), frequency, now, RECOVERY_DAYS):
            if not ingest_settled(engine, period.end, when):
                continue  # a poll is still committing bulletins of this period: next tick
            outcome = create_run(engine, period, settings.tz, when)
            if outcome.created:
                report.runs.append(outcome)
    immediate = queue_immediate(settings, engine, now)
    if immediate is not None and immediate.created:
        report.runs.append(immediate)
    report.leases_reclaimed = reclaim_dead_leases(engine)
    global _last_purge
    if time.monotonic() - _last_purge > PURGE_EVERY:  # a scan of the outbox: not every tick
        _last_purge = time.monotonic()
        report.purged = purge(settings, engine, now)
    return report


def reclaim_dead_leases(engine: sa.Engine) -> int:
    """Claims of a killed process on this host are retried now, not after their lease."""
    now = datetime.now(timezone.utc)
    with engine.connect() as conn:
        dead = [o for o in outbox.live_lease_owners(conn, now) if leases.is_dead_local(o)]
    if not dead:
        return 0
    with engine.begin() as conn:
        count = outbox.expire_leases(conn, dead, now)
    log.info("delivery.leases_reclaimed", deliveries=count, owners=len(dead))
    return count


def purge(settings: Settings, engine: sa.Engine, now: datetime) -> int:
    # Never forget a run the recovery window could re-create (that would send it again).
    keep = max(settings.delivery.retention_days, RECOVERY_DAYS + 1)
    with engine.begin() as conn:
        return outbox.purge_older_than(conn, now - timedelta(days=keep))


def sender_engine(engine: sa.Engine) -> sa.Engine:
    """The engine senders claim and record with."""
    if engine.dialect.name in ("mysql", "mariadb"):
        # Queue tables under REPEATABLE READ take gap locks that deadlock concurrent senders.
        return engine.execution_options(isolation_level="READ COMMITTED")
    return engine


async def deliver_due(settings: Settings, engine: sa.Engine, stop: asyncio.Event,
                      retry_now: bool = False) -> DeliverReport:
    """Send what is due until nothing is due or `stop` is set; raises SenderBusy on SQLite."""
    from syndicator.delivery.render import Renderer

    single = engine.dialect.name == "sqlite"
    engine = sender_engine(engine)
    now = datetime.now(timezone.utc)
    if single:
        holder = leases.take_sender_lease(engine, settings.delivery.lease_seconds, now)
        if holder is not None:
            raise SenderBusy(f"another process ({holder}) is sending from this SQLite state "
                             "database; SQLite allows one sender (use PostgreSQL or MariaDB "
                             "for several)")
    try:
        await asyncio.to_thread(reclaim_dead_leases, engine)
        renderer = await asyncio.to_thread(Renderer, settings, engine)
        transport = make_transport(settings.mail, settings.smtp)
        sender = Sender(settings, engine, transport, renderer, stop, retry_now)
        report = await sender.run()
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StateError(f"state database error while sending: {reason} (unrecorded "
                         "deliveries are retried when their lease expires)") from None
    finally:
        if single:
            leases.drop_sender_lease(engine, datetime.now(timezone.utc))
    log.info("delivery.round", sent=report.sent, retried=report.retried,
             bounced=report.bounced, failed=report.failed, skipped=report.skipped,
             released=report.released, stopped=report.stopped, seconds=report.seconds)
    return report
