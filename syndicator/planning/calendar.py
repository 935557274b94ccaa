"""The Vietnamese working calendar (pure) and the daily digest periods that follow it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

from syndicator.config.settings import DigestSettings
from syndicator.errors import ConfigError
from syndicator.models.period import Period
from syndicator.planning.periods import Schedule

# Tết with its weekends is 9-10 days; a year without one working day is a configuration
# mistake (every day listed as a day off), not a calendar to search further.
MAX_GAP_DAYS = 366

DayOffKind = Literal["weekend", "holiday", "extra_day_off"]


@dataclass(frozen=True)
class DayOff:
    """A day no digest goes out, and why: `name` is the holiday's official Vietnamese name."""

    day: date
    kind: DayOffKind
    name: str = ""


@dataclass(frozen=True)
class ScheduledDigest:
    """One daily digest: the working day it goes out, its period, the days off it spans."""

    day: date
    period: Period
    days_off: tuple[DayOff, ...]


def _official() -> holidays.HolidayBase:
    return holidays.country_holidays("VN", language="vi")


@dataclass(frozen=True)
class WorkingCalendar:
    """Vietnam's public holidays (the `holidays` package) corrected by the year's decisions."""

    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    official: holidays.HolidayBase = field(default_factory=_official, compare=False, repr=False)

    def is_working_day(self, day: date) -> bool:
        return self.day_off(day) is None

    def day_off(self, day: date) -> DayOff | None:
        """Why `day` is not a working day; None when it is one."""
        if day in self.extra_working_days:
            return None
        if day in self.extra_days_off:
            return DayOff(day, "extra_day_off")
        # The lookup also loads the year: the library fills weekend_workdays (the make-up
        # Saturdays it knows) only for the years it has loaded.
        name = self.official.get(day)
        if name is not None:
            return DayOff(day, "holiday", str(name))
        if day.weekday() >= 5 and day not in self.official.weekend_workdays:
            return DayOff(day, "weekend")
        return None


def working_calendar(cfg: DigestSettings) -> WorkingCalendar | None:
    """The calendar daily digests follow; None when they go out every day."""
    if not cfg.working_days_only:
        return None
    return WorkingCalendar(frozenset(cfg.extra_days_off), frozenset(cfg.extra_working_days))


def _boundary(day: date, at: time, tz: ZoneInfo) -> datetime:
    # The rule of periods._boundary: fold=0, so every local day has exactly one boundary
    # (an ambiguous time is its first occurrence, a missing one moves forward by the gap).
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _sends(calendar: WorkingCalendar | None, day: date) -> bool:
    return calendar is None or calendar.is_working_day(day)


def _sending_days(calendar: WorkingCalendar | None, start: date, step: int) -> Iterator[date]:
    """Days a digest goes out, from `start` (included) going forward (+1) or back (-1)."""
    for i in range(MAX_GAP_DAYS + 1):
        day = start + timedelta(days=step * i)
        if _sends(calendar, day):
            yield day
    raise ConfigError(f"config error: digests.extra_days_off: no working day within "
                      f"{MAX_GAP_DAYS} days of {start.isoformat()}")


def _previous_sending_day(calendar: WorkingCalendar | None, day: date) -> date:
    return next(_sending_days(calendar, day - timedelta(days=1), -1))


def _period(schedule: Schedule, calendar: WorkingCalendar | None, day: date) -> Period:
    """The daily period that ends on sending day `day`."""
    start = _previous_sending_day(calendar, day)
    return Period("daily", _boundary(start, schedule.daily_at, schedule.tz),
                  _boundary(day, schedule.daily_at, schedule.tz))


def last_complete_daily(schedule: Schedule, calendar: WorkingCalendar | None,
                        now: datetime) -> Period:
    """The latest daily period ending at or before `now`; it starts at the previous
    sending day's boundary, so a digest after a weekend or holiday covers the whole gap."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(schedule.tz).date()
    day = next(d for d in _sending_days(calendar, today, -1)
               if _boundary(d, schedule.daily_at, schedule.tz) <= now)
    return _period(schedule, calendar, day)


def daily_periods_ending(schedule: Schedule, calendar: WorkingCalendar | None,
                         after: datetime, until: datetime) -> list[Period]:
    """Every daily period whose end is in (after, until], oldest first (for recovery)."""
    out: list[Period] = []
    period = last_complete_daily(schedule, calendar, until)
    while period.end > after:
        out.append(period)
        period = last_complete_daily(schedule, calendar, period.start)
    return out[::-1]


def digest_schedule(schedule: Schedule, calendar: WorkingCalendar | None, first: date,
                    days: int) -> list[ScheduledDigest]:
    """The daily digests that go out on the `days` days from `first`: what each covers."""
    out: list[ScheduledDigest] = []
    for day in (first + timedelta(days=i) for i in range(days)):
        if _sends(calendar, day):
            period = _period(schedule, calendar, day)
            out.append(ScheduledDigest(day, period, _days_off(calendar, _gap(period, schedule))))
    return out


def _gap(period: Period, schedule: Schedule) -> Iterable[date]:
    """The local days strictly between the period's first and last sending day."""
    first = period.start.astimezone(schedule.tz).date()
    last = period.end.astimezone(schedule.tz).date()
    return (first + timedelta(days=i) for i in range(1, (last - first).days))


def _days_off(calendar: WorkingCalendar | None, days: Iterable[date]) -> tuple[DayOff, ...]:
    if calendar is None:
        return ()
    return tuple(off for off in (calendar.day_off(d) for d in days) if off is not None)
