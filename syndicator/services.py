"""Wiring: builds adapters from the settings and runs one use case each."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.dburl import redacted
from syndicator.delivery.dkim_sign import make_signer
from syndicator.delivery.leases import OWNER, is_dead_local
from syndicator.delivery.service import queue_immediate
from syndicator.errors import SyndicatorError, TransientError
from syndicator.ingest.poll import Poller, PollReport
from syndicator.settings import Settings
from syndicator.source.portal import PortalSource
from syndicator.state.db import check_current, state_engine
from syndicator.state.values import acquire_lease, release_lease


class PollBusy(TransientError):
    """Another process holds the poll lease (normal with several replicas)."""


def poll_once(settings: Settings, state: Engine, source: PortalSource | None = None) -> PollReport:
    """One poll, unless another process is polling the same state database right now."""
    source = source or PortalSource(settings.source, settings.tz)
    lease = max(settings.poll.interval_seconds * 5, 300)
    if acquire_lease(state, "poll", OWNER, lease, is_dead=is_dead_local) is not None:
        raise PollBusy("another process is polling this state database; try again later")
    try:
        report = Poller(settings, source, state).poll()
    finally:
        release_lease(state, "poll", OWNER)
    # Derived from first_seen_at, not from `report`: a crash before this line loses nothing,
    # the next poll or recovery tick queues the same bulletins.
    queue_immediate(settings, state)
    return report


def check_all(settings: Settings) -> list[tuple[str, bool, str]]:
    """(what, ok, detail) for the config and each database; nothing is written."""
    results: list[tuple[str, bool, str]] = [("config", True, "valid")]
    try:
        engine = state_engine(settings)
        check_current(engine)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        results.append(("state database", True, redacted(str(engine.url))))
    except SyndicatorError as exc:
        results.append(("state database", False, str(exc)))
    try:
        source = PortalSource(settings.source, settings.tz)
        source.ping()
        results.append(("source database", True,
                        f"{source.display_url} table {settings.source.table!r}"))
    except SyndicatorError as exc:
        results.append(("source database", False, str(exc)))
    if settings.mail.transport == "smtp":
        results.append(_check_smtp(settings))
    else:
        results.append(("smtp server", True, "not contacted: mail.transport is file "
                        f"(messages go to {settings.mail.outbox_dir})"))
    results.append(_check_dkim(settings))
    from syndicator.checks import local_checks

    return results + local_checks(settings)


def _check_smtp(settings: Settings) -> tuple[str, bool, str]:
    """Connect, greet, STARTTLS and log in as configured; nothing is sent."""
    import asyncio

    from syndicator.delivery.transport import SmtpTransport

    async def probe() -> None:
        client = await SmtpTransport(settings.smtp).connect()
        await client.quit()

    s = settings.smtp
    where = f"{s.host}:{s.port} ({s.security}{', login' if s.username else ''})"
    try:
        asyncio.run(probe())
    except SyndicatorError as exc:
        return ("smtp server", False, str(exc))
    except Exception as exc:  # quit() after a good login failing is still worth a line
        return ("smtp server", False, f"{where}: {type(exc).__name__}: {exc}")
    return ("smtp server", True, where)


def _check_dkim(settings: Settings) -> tuple[str, bool, str]:
    """Sign a sample message with the configured key (no DNS lookup)."""
    try:
        signer = make_signer(settings.mail)
    except SyndicatorError as exc:
        return ("dkim", False, str(exc))
    if signer is None:
        return ("dkim", True, "not configured (messages are not signed)")
    return ("dkim", True, f"signs as selector {settings.mail.dkim_selector!r}")
