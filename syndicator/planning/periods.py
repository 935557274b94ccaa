"""Digest periods (pure): the last complete daily or weekly period before a moment, local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from syndicator.config.settings import DigestSettings
from syndicator.models.period import Period

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Schedule:
    """When periods end: daily at a local time, weekly on a weekday at a local time."""

    tz: ZoneInfo
    daily_at: time
    weekly_on: str
    weekly_at: time


def schedule(cfg: DigestSettings, tz: ZoneInfo) -> Schedule:
    """The schedule the `digests` settings describe, in the configured zone."""
    return Schedule(tz, cfg.daily_at, cfg.weekly_on, cfg.weekly_at)


def _boundary(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: an ambiguous (autumn) time is its first occurrence; a missing (spring) one moves
    # forward by the gap. Either way every day has exactly one boundary.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def last_complete(schedule: Schedule, frequency: str, now: datetime) -> Period:
    """The latest period of `frequency` ending at or before `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(schedule.tz).date()
    if frequency == "daily":
        day = next(d for d in (today - timedelta(days=i) for i in range(3))
                   if _boundary(d, schedule.daily_at, schedule.tz) <= now)
        return Period("daily", _boundary(day - timedelta(days=1), schedule.daily_at, schedule.tz),
                      _boundary(day, schedule.daily_at, schedule.tz))
    if frequency == "weekly":
        target = WEEKDAYS.index(schedule.weekly_on)
        day = next(d for d in (today - timedelta(days=i) for i in range(15))
                   if d.weekday() == target
                   and _boundary(d, schedule.weekly_at, schedule.tz) <= now)
        return Period("weekly", _boundary(day - timedelta(days=7), schedule.weekly_at, schedule.tz),
                      _boundary(day, schedule.weekly_at, schedule.tz))
    raise ValueError(f"no periods for frequency {frequency!r}")


def recent(schedule: Schedule, frequency: str, now: datetime, days: int = 7) -> list[Period]:
    """Every period of `frequency` that ended in the last `days` days, oldest first."""
    out: list[Period] = []
    period = last_complete(schedule, frequency, now)
    while period.end > now - timedelta(days=days):
        out.append(period)
        period = last_complete(schedule, frequency, period.start)
    return out[::-1]


def next_end(schedule: Schedule, frequency: str, now: datetime) -> datetime:
    """When the period of `frequency` in progress at `now` ends (its run is created then)."""
    span = timedelta(days=1 if frequency == "daily" else 7)
    return last_complete(schedule, frequency, now + span).end
