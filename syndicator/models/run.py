"""Digest runs: one per (frequency, period), as stored and as a caller is told of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Run:
    """A stored digest run (composing | sending | complete)."""

    id: int
    frequency: str
    period_start: datetime
    period_end: datetime
    status: str
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class RunOutcome:
    """A run as found or created; `created` is False when it already existed."""

    run_id: int
    frequency: str
    period_start: datetime
    period_end: datetime
    created: bool
    deliveries: int  # queued when created; -1 when it already existed
    status: str
