"""The calendar dates a reader is shown for a digest period (in the configured zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class PeriodLabel:
    """The window a digest covers, as a reader is told it (in the configured zone)."""

    kind: str  # "immediate" | "daily" | "weekly"
    first: date  # first day the window touches (the day itself for immediate)
    last: date  # last day it touches (its end is exclusive)
    start: datetime  # local wall-clock start
    end: datetime  # local wall-clock end (exclusive)
    whole_days: bool  # starts and ends at midnight: the days alone say it exactly
    earlier: int = 0  # bulletins of the digest published before the window (first import)


def label(frequency: str, start: datetime, end: datetime, tz: ZoneInfo,
          earlier: int = 0) -> PeriodLabel:
    """The window as it is: a daily digest of 07:00 to 07:00 touches two days, and says so."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    first = local_start.date()
    last = (end - _EPSILON).astimezone(tz).date()
    if frequency == "immediate":
        first = last
    whole = local_start.time() == time(0) and local_end.time() == time(0)
    return PeriodLabel(kind=frequency, first=first, last=last, start=local_start,
                       end=local_end, whole_days=whole, earlier=earlier)
