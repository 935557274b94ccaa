"""What the dashboard shows: the last poll, skipped rows, the next runs, the queue, the last
runs of each frequency with their outcomes, and the readiness verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.models.poll import PollSummary
from syndicator.models.run import Run
from syndicator.planning import periods
from syndicator.state import proof
from syndicator.state.proof import Counts
from syndicator.state.values import LAST_POLL, get_value

RUNS_SHOWN = 5


@dataclass(frozen=True)
class NextRun:
    what: str  # "poll" | "daily" | "weekly" | "immediate"
    at: datetime | None  # None: after the next poll that finds something


@dataclass(frozen=True)
class Dashboard:
    last_poll: PollSummary | None
    next_runs: list[NextRun]
    queue: Counts
    runs: dict[str, list[tuple[Run, Counts]]]
    problems: list[str]  # the readiness probe's reasons; empty: ready


def build(settings: Settings, engine: Engine, now: datetime, problems: list[str]) -> Dashboard:
    with engine.connect() as conn:
        last = PollSummary.load(get_value(conn, LAST_POLL))
        queue = proof.queue(conn)
        recent = {f: proof.runs(conn, RUNS_SHOWN, frequency=f) for f in proof.FREQUENCIES}
        counts = proof.counts(conn, [r.id for rs in recent.values() for r in rs])
    runs = {f: [(r, counts[r.id]) for r in rs] for f, rs in recent.items()}
    return Dashboard(last, next_runs(settings, now, last), queue, runs, problems)


def next_runs(settings: Settings, now: datetime, last: PollSummary | None) -> list[NextRun]:
    """The next poll (from the last one's end) and the ends of the periods in progress."""
    interval = timedelta(seconds=settings.poll.interval_seconds)
    poll_at = max(last.finished_at + interval, now) if last else now
    schedule = periods.schedule(settings.digests, settings.tz)
    return [NextRun("poll", poll_at),
            NextRun("daily", periods.next_end(schedule, "daily", now)),
            NextRun("weekly", periods.next_end(schedule, "weekly", now)),
            NextRun("immediate", None)]
