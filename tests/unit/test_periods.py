"""Digest periods: local boundaries, across DST, and the recovery window."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from syndicator.planning.periods import Schedule, last_complete, recent

UTC = UTC
BERLIN = Schedule(ZoneInfo("Europe/Berlin"), time(7, 0), "monday", time(7, 0))
HCM = Schedule(ZoneInfo("Asia/Ho_Chi_Minh"), time(7, 0), "monday", time(7, 0))


def local(s: Schedule, *args: int) -> datetime:
    return datetime(*args, tzinfo=s.tz)


def test_daily_before_and_after_the_boundary_hcm() -> None:
    before = last_complete(HCM, "daily", local(HCM, 2026, 11, 25, 6, 59))
    assert before.start == local(HCM, 2026, 11, 23, 7) and before.end == local(HCM, 2026, 11, 24, 7)
    at = last_complete(HCM, "daily", local(HCM, 2026, 11, 25, 7, 0))
    assert at.start == local(HCM, 2026, 11, 24, 7) and at.end == local(HCM, 2026, 11, 25, 7)
    assert at.end - at.start == timedelta(hours=24)
    assert at.end.tzinfo == UTC and at.end == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def test_daily_across_spring_forward_is_23_hours() -> None:
    period = last_complete(BERLIN, "daily", local(BERLIN, 2026, 3, 29, 12))
    assert period.start == local(BERLIN, 2026, 3, 28, 7)
    assert period.end == local(BERLIN, 2026, 3, 29, 7)
    assert period.end - period.start == timedelta(hours=23)
    assert period.end.astimezone(BERLIN.tz).hour == 7


def test_daily_across_fall_back_is_25_hours() -> None:
    period = last_complete(BERLIN, "daily", local(BERLIN, 2026, 10, 25, 8))
    assert period.end - period.start == timedelta(hours=25)
    assert period.start.astimezone(BERLIN.tz).hour == 7


def test_boundary_inside_the_dst_gap_still_gives_one_period_per_day() -> None:
    at_gap = Schedule(ZoneInfo("Europe/Berlin"), time(2, 30), "sunday", time(2, 30))
    periods = recent(at_gap, "daily", datetime(2026, 4, 2, tzinfo=UTC), days=7)
    assert len(periods) == 7
    assert all(a.end == b.start for a, b in zip(periods, periods[1:], strict=False))


def test_weekly_on_monday() -> None:
    wed = local(HCM, 2026, 11, 25, 12)  # a Wednesday
    period = last_complete(HCM, "weekly", wed)
    assert period.end == local(HCM, 2026, 11, 23, 7)
    assert period.start == local(HCM, 2026, 11, 16, 7)
    monday_early = last_complete(HCM, "weekly", local(HCM, 2026, 11, 23, 6))
    assert monday_early.end == local(HCM, 2026, 11, 16, 7)


def test_weekly_across_dst_in_berlin() -> None:
    period = last_complete(BERLIN, "weekly", local(BERLIN, 2026, 3, 30, 9))
    assert period.end - period.start == timedelta(days=7, hours=-1)


def test_recent_covers_seven_days_contiguously() -> None:
    now = local(HCM, 2026, 11, 25, 8)
    daily = recent(HCM, "daily", now)
    assert len(daily) == 7 and daily[-1] == last_complete(HCM, "daily", now)
    assert all(a.end == b.start for a, b in zip(daily, daily[1:], strict=False))
    assert len(recent(HCM, "weekly", now)) == 1


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError):
        last_complete(HCM, "daily", datetime(2026, 1, 1))
