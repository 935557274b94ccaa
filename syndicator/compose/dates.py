"""The calendar dates a reader is shown for a digest period (in the configured zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_EPSILON = timedelta(microseconds=1)
# Longer than a day (and its DST hour): a daily period that spans days off (working calendar).
_ONE_DAY = timedelta(hours=25)


@dataclass(frozen=True)
class PeriodLabel:
    """Calendar dates a reader associates with a period (in the configured zone)."""

    kind: str  # "immediate" | "daily" | "weekly"
    first: date  # first day covered (weekly) or the day itself (daily, immediate)
    last: date


def label(frequency: str, start: datetime, end: datetime, tz: ZoneInfo) -> PeriodLabel:
    """The days to name: a daily digest is dated by the last day it touches, or by every day
    since the previous digest when it covers days off; a week by 7 days."""
    first = start.astimezone(tz).date()
    last = (end - _EPSILON).astimezone(tz).date()
    if frequency == "weekly":
        last = min(last, first + timedelta(days=6))
    elif frequency == "immediate" or end - start <= _ONE_DAY:
        first = last
    return PeriodLabel(kind=frequency, first=first, last=last)
