"""One poll step: the poll lease, ingest, then the immediate notices it made due."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.errors import SyndicatorError, TransientError
from syndicator.ingest.poll import Poller, PollReport
from syndicator.models.poll import MAX_SKIPPED, PollSummary, SkippedRow
from syndicator.planning.corrections import queue_corrections
from syndicator.planning.due import queue_immediate
from syndicator.runtime.clock import check_clock
from syndicator.source.portal import PortalSource
from syndicator.state import leases
from syndicator.state.values import LAST_POLL, set_value


class PollBusy(TransientError):
    """Another process holds the poll lease (normal with several replicas)."""


def poll_once(settings: Settings, state: Engine, source: PortalSource | None = None) -> PollReport:
    """One poll, unless another process is polling the same state database right now."""
    source = source or PortalSource(settings.source, settings.tz)
    check_clock(settings, state)  # before anything is stamped with the clock as it is now
    lease = max(settings.poll.interval_seconds * 5, 300)
    if leases.acquire(state, leases.POLL, lease) is not None:
        raise PollBusy("another process is polling this state database; try again later")
    started = datetime.now(UTC)
    try:
        report = Poller(settings, source, state).poll()
    except (SyndicatorError, sa.exc.DBAPIError) as exc:
        _record(state, _failed(started, exc))
        raise
    finally:
        leases.release(state, leases.POLL)
    _record(state, summary(report, started, datetime.now(UTC)))
    # Derived from first_seen_at, not from `report`: a crash before this line loses nothing,
    # the next poll or recovery tick queues the same bulletins.
    queue_immediate(settings, state)
    queue_corrections(settings, state)  # likewise derived from the versions ingest recorded
    return report


def summary(report: PollReport, started: datetime, finished: datetime) -> PollSummary:
    """What the console shows of a poll: counts, and the rows it skipped with the reason."""
    skipped = tuple(SkippedRow(e.source_id, e.field, e.problem)
                    for e in report.errors[:MAX_SKIPPED])
    return PollSummary(started, finished, True, new=len(report.new),
                       changed=len(report.changed), withdrawn=len(report.withdrawn),
                       archived=len(report.archived), rows_read=report.rows_read,
                       skipped=skipped, skipped_total=len(report.errors))


def _failed(started: datetime, exc: Exception) -> PollSummary:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return PollSummary(started, datetime.now(UTC), False,
                       error=(reason[0] if reason else type(exc).__name__)[:300])


def _record(state: Engine, done: PollSummary) -> None:
    """Best effort: the summary is for people; a state database that is away loses only it."""
    with contextlib.suppress(sa.exc.DBAPIError):
        with state.begin() as conn:
            set_value(conn, LAST_POLL, done.dump())
