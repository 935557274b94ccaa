"""Digest periods: the last complete one for a frequency, and the dates a reader is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from syndicator import periods
from syndicator.settings import DigestSettings

_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class PeriodLabel:
    """Calendar dates a reader associates with a period (in the configured zone)."""

    kind: str  # "immediate" | "daily" | "weekly"
    first: date  # first day covered (weekly) or the day itself (daily, immediate)
    last: date


def last_complete(frequency: str, now: datetime, cfg: DigestSettings,
                  tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the last period ending at or before `now` (the digest schedule)."""
    if frequency == "immediate":  # no calendar; a preview looks at the last 24 hours
        return now - timedelta(days=1), now
    period = periods.last_complete(periods.schedule(cfg, tz), frequency, now)
    return period.start, period.end


def label(frequency: str, start: datetime, end: datetime, tz: ZoneInfo) -> PeriodLabel:
    """The days to name: a daily digest is dated by the last day it touches; a week by 7 days."""
    first = start.astimezone(tz).date()
    last = (end - _EPSILON).astimezone(tz).date()
    if frequency == "weekly":
        last = min(last, first + timedelta(days=6))
    elif frequency in ("daily", "immediate"):
        first = last
    return PeriodLabel(kind=frequency, first=first, last=last)
