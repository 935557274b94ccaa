"""One round of what comes back: the bounce mailbox read under a lease, then what a person
must see forwarded, old records forgotten and the counts reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from syndicator.bounces.imap import Mailbox, Round
from syndicator.bounces.intake import Intake
from syndicator.config.settings import Settings
from syndicator.delivery.forward import forward_due
from syndicator.errors import TransientError
from syndicator.state import leases, returned
from syndicator.telemetry import metrics

log = structlog.get_logger(__name__)


class ReturnsBusy(TransientError):
    """Another process is reading the bounce mailbox (normal with several replicas)."""


@dataclass(frozen=True)
class ReturnsReport:
    mailbox: Round | None  # None: no mailbox configured, or another replica read it
    forwarded: int


def interval(settings: Settings) -> int:
    """Every `bounces.imap.interval_seconds`; without a mailbox, every minute (what a pipe
    recorded may still need forwarding, and the counts feed /metrics either way)."""
    imap = settings.bounces.imap
    return imap.interval_seconds if imap is not None else 60


def read_mailbox(settings: Settings, engine: Engine) -> Round | None:
    """Drain `bounces.imap` once; raises ReturnsBusy when another process holds the lease.

    The lease only saves work: two readers would fetch the same messages and race to move
    them. Correctness does not depend on it; each message is recorded once by its key, also
    when a lease ran out mid-round or a reader died between recording and moving."""
    imap = settings.bounces.imap
    if imap is None:
        return None
    if leases.acquire(engine, leases.RETURNS, max(5 * imap.interval_seconds, 300)) is not None:
        raise ReturnsBusy("another process is reading the bounce mailbox")
    try:
        intake = Intake.configured(settings, engine)
        return Mailbox(imap, settings.bounces.max_message_bytes).drain(intake.take)
    finally:
        leases.release(engine, leases.RETURNS)


def returns_round(settings: Settings, engine: Engine, now: datetime | None = None) -> ReturnsReport:
    try:
        mailbox = read_mailbox(settings, engine)
    except ReturnsBusy:
        log.info("bounces.imap_skipped", reason="another replica holds the mailbox lease")
        mailbox = None
    forwarded = forward_due(settings, engine)
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        returned.purge_older_than(conn, now - timedelta(days=settings.delivery.retention_days))
        counts = returned.counts_by_kind(conn, now - timedelta(days=1))
        pending = returned.forwards_pending(conn)
    metrics.returned_messages(counts, pending)
    return ReturnsReport(mailbox, forwarded)
