"""Send what is due: the entry point of `syndicator deliver` and the daemon's delivery loop."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
import structlog

from syndicator.config.settings import Settings
from syndicator.delivery.prepare import Preparer
from syndicator.delivery.report import DeliverReport
from syndicator.delivery.sender import Sender
from syndicator.delivery.transport import make_transport
from syndicator.delivery.upkeep import reclaim_dead_leases
from syndicator.errors import StateError, SyndicatorError
from syndicator.state import leases

log = structlog.get_logger(__name__)


class SenderBusy(SyndicatorError):
    """Another process is sending from this SQLite database."""


def sender_engine(engine: sa.Engine) -> sa.Engine:
    """The engine senders claim and record with."""
    if engine.dialect.name in ("mysql", "mariadb"):
        # Queue tables under REPEATABLE READ take gap locks that deadlock concurrent senders.
        return engine.execution_options(isolation_level="READ COMMITTED")
    return engine


async def deliver_due(settings: Settings, engine: sa.Engine, stop: asyncio.Event,
                      retry_now: bool = False) -> DeliverReport:
    """Send what is due until nothing is due or `stop` is set; raises SenderBusy on SQLite."""
    single = engine.dialect.name == "sqlite"
    engine = sender_engine(engine)
    if single:
        holder = leases.acquire(engine, leases.SENDER, settings.delivery.lease_seconds)
        if holder is not None:
            raise SenderBusy(f"another process ({holder}) is sending from this SQLite state "
                             "database; SQLite allows one sender (use PostgreSQL or MariaDB "
                             "for several)")
    try:
        await asyncio.to_thread(reclaim_dead_leases, engine)
        preparer = await asyncio.to_thread(Preparer, settings, engine)
        transport = make_transport(settings.mail, settings.smtp,
                                   stamp_sender=settings.bounces.return_path is not None)
        report = await Sender(settings, engine, transport, preparer, stop, retry_now).run()
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StateError(f"state database error while sending: {reason} (unrecorded "
                         "deliveries are retried when their lease expires)") from None
    finally:
        if single:
            leases.release(engine, leases.SENDER)
    log.info("delivery.round", sent=report.sent, retried=report.retried,
             bounced=report.bounced, failed=report.failed, skipped=report.skipped,
             released=report.released, stopped=report.stopped, seconds=report.seconds)
    return report
