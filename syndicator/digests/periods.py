"""Digest periods: the last complete one for a frequency, and the dates a reader is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from syndicator.settings import DigestSettings

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class PeriodLabel:
    """Calendar dates a reader associates with a period (in the configured zone)."""

    kind: str  # "immediate" | "daily" | "weekly"
    first: date  # first day covered (weekly) or the day itself (daily, immediate)
    last: date


def last_complete(frequency: str, now: datetime, cfg: DigestSettings,
                  tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the last period ending at or before `now`."""
    local = now.astimezone(tz)
    if frequency == "weekly":
        end = _last_weekly_boundary(local, cfg.weekly_on, cfg.weekly_at, tz)
        start = _local(end.date() - timedelta(days=7), cfg.weekly_at, tz)
    elif frequency == "daily":
        end = _local(local.date(), cfg.daily_at, tz)
        if end > local:
            end = _local(local.date() - timedelta(days=1), cfg.daily_at, tz)
        start = _local(end.date() - timedelta(days=1), cfg.daily_at, tz)
    else:  # immediate has no calendar; a preview looks at the last 24 hours
        end, start = local, local - timedelta(days=1)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def label(frequency: str, start: datetime, end: datetime, tz: ZoneInfo) -> PeriodLabel:
    """The days to name: a daily digest is dated by the last day it touches; a week by 7 days."""
    first = start.astimezone(tz).date()
    last = (end - _EPSILON).astimezone(tz).date()
    if frequency == "weekly":
        last = min(last, first + timedelta(days=6))
    elif frequency in ("daily", "immediate"):
        first = last
    return PeriodLabel(kind=frequency, first=first, last=last)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def _last_weekly_boundary(local: datetime, weekday: str, at: time, tz: ZoneInfo) -> datetime:
    back = (local.weekday() - _WEEKDAYS.index(weekday)) % 7
    end = _local(local.date() - timedelta(days=back), at, tz)
    if end > local:
        end = _local(end.date() - timedelta(days=7), at, tz)
    return end
