"""Wiring: builds adapters from the settings and runs one use case each."""

from __future__ import annotations

import os
import socket

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.dburl import redacted
from syndicator.errors import SyndicatorError, TransientError
from syndicator.ingest.poll import Poller, PollReport
from syndicator.settings import Settings
from syndicator.source.portal import PortalSource
from syndicator.state.db import check_current, state_engine
from syndicator.state.values import acquire_lease, release_lease

OWNER = f"{socket.gethostname()}:{os.getpid()}"


class PollBusy(TransientError):
    """Another process holds the poll lease (normal with several replicas)."""


def poll_once(settings: Settings, state: Engine, source: PortalSource | None = None) -> PollReport:
    """One poll, unless another process is polling the same state database right now."""
    source = source or PortalSource(settings.source, settings.tz)
    lease = max(settings.poll.interval_seconds * 5, 300)
    if not acquire_lease(state, "poll", OWNER, lease):
        raise PollBusy("another process is polling this state database; try again later")
    try:
        return Poller(settings, source, state).poll()
    finally:
        release_lease(state, "poll", OWNER)


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
    return results
