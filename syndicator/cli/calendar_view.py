"""`digest schedule` output: when each digest goes out and what it covers, as text or JSON."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from syndicator.config.settings import DigestSettings
from syndicator.planning.calendar import DayOff, ScheduledDigest

_KIND = {"weekend": "weekend", "extra_day_off": "day off (digests.extra_days_off)"}


def as_json(frequency: str, entries: Sequence[ScheduledDigest],
            tz: ZoneInfo) -> list[dict[str, Any]]:
    """One object per digest: when it goes out, the span it covers, the days off in it."""
    return [{"frequency": frequency, "date": e.day.isoformat(),
             "sends_at": e.period.end.astimezone(tz).isoformat(),
             "covers_from": e.period.start.astimezone(tz).isoformat(),
             "covers_until": e.period.end.astimezone(tz).isoformat(),
             "days_off": [{"date": d.day.isoformat(), "kind": d.kind, "name": d.name}
                          for d in e.days_off]}
            for e in entries]


def as_text(frequency: str, entries: Sequence[ScheduledDigest], tz: ZoneInfo,
            working_days: bool) -> Iterator[str]:
    """`Mon 23/02/2026 07:00  covers Fri 13/02 07:00 -> Mon 23/02 07:00 (10 days; off: ...)`"""
    for e in entries:
        start, end = e.period.start.astimezone(tz), e.period.end.astimezone(tz)
        span = f"covers {_short(start)} -> {_short(end)}"
        notes = _notes(frequency, e, end - start, working_days)
        yield f"  {_long(end)}  {span}" + (f" ({notes})" if notes else "")


def _notes(frequency: str, e: ScheduledDigest, length: timedelta, working_days: bool) -> str:
    days = round(length / timedelta(days=1))
    usual = 7 if frequency == "weekly" else 1
    parts = [f"{days} days"] if days != usual else []
    if working_days and frequency == "daily" and e.day.weekday() >= 5:
        parts.append("a make-up working day")
    if frequency == "weekly" and e.days_off:
        parts.append(f"goes out on a day off: {_off_name(e.days_off[0])}")
    elif e.days_off:
        parts.append("off: " + ", ".join(_runs(e.days_off)))
    return "; ".join(parts)


def _runs(days_off: Sequence[DayOff]) -> Iterator[str]:
    """Consecutive days off with the same reason as one range: `14-15/02 weekend`."""
    for name, run in _consecutive(days_off):
        first, last = run[0].day, run[-1].day
        if first == last:
            when = _ddmm(first)
        elif first.month == last.month:
            when = f"{first.day:02d}-{_ddmm(last)}"
        else:
            when = f"{_ddmm(first)}-{_ddmm(last)}"
        yield f"{when} {name}"


def _consecutive(days_off: Sequence[DayOff]) -> Iterator[tuple[str, list[DayOff]]]:
    run: list[DayOff] = []
    for off in days_off:
        if run and (_off_name(off) != _off_name(run[-1])
                    or off.day != run[-1].day + timedelta(days=1)):
            yield _off_name(run[0]), run
            run = []
        run.append(off)
    if run:
        yield _off_name(run[0]), run


def _off_name(off: DayOff) -> str:
    return off.name if off.kind == "holiday" else _KIND[off.kind]


def _ddmm(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}"


def _short(at: datetime) -> str:
    return f"{at:%a} {_ddmm(at.date())} {at:%H:%M}"


def _long(at: datetime) -> str:
    return f"{at:%a} {_ddmm(at.date())}/{at.year} {at:%H:%M}"


def heading(frequency: str, cfg: DigestSettings, zone: str, count: int) -> str:
    """`daily digests at 07:00 Asia/Ho_Chi_Minh, on Vietnam's working days: 9`"""
    if frequency == "weekly":
        when = f"every {cfg.weekly_on.capitalize()} at {cfg.weekly_at:%H:%M} {zone}"
    else:
        days = ("on Vietnam's working days (digests.working_days_only)"
                if cfg.working_days_only else "every day")
        when = f"at {cfg.daily_at:%H:%M} {zone}, {days}"
    return f"{frequency} digests {when}: {count}"
