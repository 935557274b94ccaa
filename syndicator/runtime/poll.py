"""One poll step: the poll lease, ingest, then the immediate notices it made due."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.errors import TransientError
from syndicator.ingest.poll import Poller, PollReport
from syndicator.planning.due import queue_immediate
from syndicator.source.portal import PortalSource
from syndicator.state import leases


class PollBusy(TransientError):
    """Another process holds the poll lease (normal with several replicas)."""


def poll_once(settings: Settings, state: Engine, source: PortalSource | None = None) -> PollReport:
    """One poll, unless another process is polling the same state database right now."""
    source = source or PortalSource(settings.source, settings.tz)
    lease = max(settings.poll.interval_seconds * 5, 300)
    if leases.acquire(state, leases.POLL, lease) is not None:
        raise PollBusy("another process is polling this state database; try again later")
    try:
        report = Poller(settings, source, state).poll()
    finally:
        leases.release(state, leases.POLL)
    # Derived from first_seen_at, not from `report`: a crash before this line loses nothing,
    # the next poll or recovery tick queues the same bulletins.
    queue_immediate(settings, state)
    return report
