"""Runs past their deadline: the gauge, one error line and one operator mail per late run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.models.message import FREQUENCIES
from syndicator.planning import due
from syndicator.state import outbox
from syndicator.state import runs as store
from syndicator.state.values import insert_once
from syndicator.telemetry import metrics

log = structlog.get_logger(__name__)
ALERT_PREFIX = "alert.run_overdue."  # state value per late run: its alert was raised


@dataclass(frozen=True)
class Overdue:
    """A run (or a scheduled period with no run yet) not complete by its deadline."""

    frequency: str
    period_start: datetime
    period_end: datetime  # the scheduled time: deadlines count from it
    deadline: datetime
    run_id: int | None  # None: the run was never created
    counts: dict[str, int] = field(default_factory=dict)  # the run's deliveries by status
    canary: tuple[dict[str, Any], ...] = ()  # each canary copy: address, status, sent_at

    @property
    def key(self) -> str:
        return f"{ALERT_PREFIX}{self.frequency}.{self.period_end.isoformat()}"

    def payload(self, minutes: int) -> dict[str, Any]:
        """What the operator's mail says (JSON: times as ISO 8601)."""
        return {"frequency": self.frequency, "run_id": self.run_id, "minutes": minutes,
                "period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat(),
                "deadline": self.deadline.isoformat(), "counts": self.counts,
                "canary": [{"address": c["address"], "status": c["status"],
                            "sent_at": c["sent_at"].isoformat() if c["sent_at"] else None}
                           for c in self.canary]}


def check_deadlines(settings: Settings, engine: Engine, now: datetime) -> list[Overdue]:
    """Set the overdue gauge of every frequency and raise each new late run's alert once,
    whichever replica sees it first (the state database records it)."""
    with engine.connect() as conn:
        late = overdue_runs(settings, conn, now)
    for frequency in FREQUENCIES:
        metrics.digest_run_overdue(frequency, any(o.frequency == frequency for o in late))
    for item in late:
        _alert_once(settings, engine, item, now)
    return late


def overdue_runs(settings: Settings, conn: sa.Connection, now: datetime) -> list[Overdue]:
    """Unfinished runs past their deadline, and scheduled periods whose run is missing."""
    found = [_overdue(conn, run.frequency, run.period_start, run.period_end, minutes, run.id)
             for run in store.unfinished(conn)
             if (minutes := _minutes(settings, run.frequency)) is not None
             and now >= run.period_end + timedelta(minutes=minutes)]
    for frequency in ("daily", "weekly"):
        missing = _missing(settings, conn, frequency, now)
        if missing is not None:
            found.append(missing)
    return found


def _missing(settings: Settings, conn: sa.Connection, frequency: str,
             now: datetime) -> Overdue | None:
    """The scheduled period past its deadline with no run (the recovery tick could not make
    it: a poll still committing, say). A fresh installation, with no run of this frequency
    before the period, owes nothing yet."""
    minutes = _minutes(settings, frequency)
    if minutes is None:
        return None
    period = due.last_scheduled(settings, frequency, now)
    if (now < period.end + timedelta(minutes=minutes)
            or store.run_covering(conn, frequency, period.end) is not None
            or store.latest_end_before(conn, frequency, period.end) is None):
        return None
    return _overdue(conn, frequency, period.start, period.end, minutes, None)


def _minutes(settings: Settings, frequency: str) -> int | None:
    return settings.digests.deadline_minutes.of(frequency)


def _overdue(conn: sa.Connection, frequency: str, start: datetime, end: datetime,
             minutes: int, run_id: int | None) -> Overdue:
    counts = store.delivery_counts(conn, run_id) if run_id is not None else {}
    canary = tuple(store.copies(conn, run_id, outbox.CANARY)) if run_id is not None else ()
    return Overdue(frequency, start, end, end + timedelta(minutes=minutes), run_id, counts,
                   canary)


def _alert_once(settings: Settings, engine: Engine, item: Overdue, now: datetime) -> None:
    minutes = _minutes(settings, item.frequency) or 0
    operator = settings.mail.operator_address
    with engine.begin() as conn:
        record = {"at": now.isoformat(), "run_id": item.run_id}
        if not insert_once(conn, item.key, json.dumps(record)):
            return  # raised already, here or by another replica
        if operator:
            outbox.enqueue_to(conn, outbox.RUN_OVERDUE, operator, now, item.payload(minutes))
    unfinished = item.counts.get("pending", 0) + item.counts.get("sending", 0)
    log.error("digest.run_overdue", frequency=item.frequency, run_id=item.run_id,
              period_start=item.period_start.isoformat(),
              period_end=item.period_end.isoformat(), deadline=item.deadline.isoformat(),
              deadline_minutes=minutes, unfinished=unfinished,
              sent=item.counts.get("sent", 0),
              canary_sent=sum(1 for c in item.canary if c["status"] == "sent"),
              operator_mailed=bool(operator))
