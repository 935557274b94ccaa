"""The Vietnamese working calendar and daily digests on working days, in Hồ Chí Minh time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from syndicator.config.settings import DigestSettings
from syndicator.errors import ConfigError
from syndicator.planning import periods
from syndicator.planning.calendar import (
    DayOff,
    WorkingCalendar,
    daily_periods_ending,
    digest_schedule,
    last_complete_daily,
    working_calendar,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
AT7 = periods.Schedule(HCM, time(7, 0), "monday", time(7, 0))
VN = WorkingCalendar()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM)


def covers(day: date, cal: WorkingCalendar = VN) -> tuple[datetime, datetime]:
    """The period of the digest that goes out on `day` (it must go out that day)."""
    [entry] = [e for e in digest_schedule(AT7, cal, day, 1)]
    return entry.period.start, entry.period.end


def sending_days(first: date, last: date, cal: WorkingCalendar = VN) -> list[date]:
    return [e.day for e in digest_schedule(AT7, cal, first, (last - first).days + 1)]


def test_tet_2026_one_digest_covers_the_whole_break() -> None:
    # Tết Bính Ngọ: 16-20/2 by the lunar calendar, with the weekends 14/2-22/2 off.
    assert sending_days(date(2026, 2, 12), date(2026, 2, 24)) == [
        date(2026, 2, 12), date(2026, 2, 13), date(2026, 2, 23), date(2026, 2, 24)]
    assert covers(date(2026, 2, 23)) == (local(2026, 2, 13, 7), local(2026, 2, 23, 7))


def test_tet_2027() -> None:
    # Tết Đinh Mùi: 4/2 (29 Tết) to 10/2, a Wednesday; back at work on Thursday 11/2.
    assert sending_days(date(2027, 2, 2), date(2027, 2, 12)) == [
        date(2027, 2, 2), date(2027, 2, 3), date(2027, 2, 11), date(2027, 2, 12)]
    assert covers(date(2027, 2, 11)) == (local(2027, 2, 3, 7), local(2027, 2, 11, 7))


def test_hung_kings_30_4_and_1_5_in_2026() -> None:
    # Giỗ Tổ (10/3 lunar) fell on Sunday 26/4, made up on Monday 27/4; 30/4 and 1/5 are a
    # Thursday and a Friday.
    assert sending_days(date(2026, 4, 24), date(2026, 5, 5)) == [
        date(2026, 4, 24), date(2026, 4, 28), date(2026, 4, 29), date(2026, 5, 4),
        date(2026, 5, 5)]
    assert covers(date(2026, 4, 28)) == (local(2026, 4, 24, 7), local(2026, 4, 28, 7))
    assert covers(date(2026, 5, 4)) == (local(2026, 4, 29, 7), local(2026, 5, 4, 7))


def test_national_day_2026_with_its_adjacent_day_and_a_make_up_saturday() -> None:
    # 1/9 and 2/9; Monday 31/8 is off in exchange for Saturday 22/8 worked (the library
    # knows this decision).
    assert VN.is_working_day(date(2026, 8, 22))
    assert covers(date(2026, 8, 22)) == (local(2026, 8, 21, 7), local(2026, 8, 22, 7))
    assert covers(date(2026, 8, 24)) == (local(2026, 8, 22, 7), local(2026, 8, 24, 7))
    assert sending_days(date(2026, 8, 27), date(2026, 9, 4)) == [
        date(2026, 8, 27), date(2026, 8, 28), date(2026, 9, 3), date(2026, 9, 4)]
    assert covers(date(2026, 9, 3)) == (local(2026, 8, 28, 7), local(2026, 9, 3, 7))


def test_national_day_2027_adjacent_friday() -> None:
    assert covers(date(2027, 9, 6)) == (local(2027, 9, 1, 7), local(2027, 9, 6, 7))


def test_configured_day_off_and_make_up_saturday() -> None:
    # A decision the library does not know: Friday 12/2/2027 off, Saturday 20/2 worked.
    cal = WorkingCalendar(frozenset({date(2027, 2, 12)}), frozenset({date(2027, 2, 20)}))
    assert sending_days(date(2027, 2, 11), date(2027, 2, 22), cal) == [
        date(2027, 2, 11), date(2027, 2, 15), date(2027, 2, 16), date(2027, 2, 17),
        date(2027, 2, 18), date(2027, 2, 19), date(2027, 2, 20), date(2027, 2, 22)]
    assert covers(date(2027, 2, 15), cal) == (local(2027, 2, 11, 7), local(2027, 2, 15, 7))
    assert covers(date(2027, 2, 22), cal) == (local(2027, 2, 20, 7), local(2027, 2, 22, 7))


def test_configured_working_day_wins_over_a_holiday() -> None:
    cal = WorkingCalendar(extra_working_days=frozenset({date(2026, 2, 20)}))
    assert cal.is_working_day(date(2026, 2, 20)) and not VN.is_working_day(date(2026, 2, 20))


def test_schedule_names_the_days_off_each_digest_spans() -> None:
    cal = WorkingCalendar(frozenset({date(2026, 2, 13)}))
    [entry] = digest_schedule(AT7, cal, date(2026, 2, 23), 1)
    assert entry.period.start == local(2026, 2, 12, 7)
    offs = {o.day: o for o in entry.days_off}
    assert sorted(offs) == [date(2026, 2, 13) + timedelta(days=i) for i in range(10)]
    assert offs[date(2026, 2, 13)] == DayOff(date(2026, 2, 13), "extra_day_off")
    assert offs[date(2026, 2, 14)].kind == "weekend"
    assert offs[date(2026, 2, 17)] == DayOff(date(2026, 2, 17), "holiday", "Tết Nguyên Đán")


def test_last_complete_before_at_and_after_the_first_day_back() -> None:
    before = last_complete_daily(AT7, VN, local(2026, 2, 23, 6, 59))
    assert (before.start, before.end) == (local(2026, 2, 12, 7), local(2026, 2, 13, 7))
    at = last_complete_daily(AT7, VN, local(2026, 2, 23, 7, 0))
    assert (at.start, at.end) == (local(2026, 2, 13, 7), local(2026, 2, 23, 7))
    assert at.end.tzinfo == UTC and at.frequency == "daily"
    during = last_complete_daily(AT7, VN, local(2026, 2, 18, 12))
    assert during == before


def test_recovery_window_finds_the_long_period_ending_in_it() -> None:
    now = local(2026, 2, 23, 8)
    found = daily_periods_ending(AT7, VN, now - timedelta(days=7), now)
    assert [(p.start, p.end) for p in found] == [(local(2026, 2, 13, 7), local(2026, 2, 23, 7))]


def test_off_by_default_and_built_from_settings() -> None:
    assert working_calendar(DigestSettings()) is None
    cal = working_calendar(DigestSettings(working_days_only=True,
                                          extra_days_off=[date(2026, 1, 2)]))
    assert cal is not None and not cal.is_working_day(date(2026, 1, 2))


def test_a_year_without_working_days_is_a_config_error() -> None:
    every_day = frozenset(date(2026, 1, 1) + timedelta(days=i) for i in range(800))
    with pytest.raises(ConfigError, match="digests.extra_days_off"):
        last_complete_daily(AT7, WorkingCalendar(every_day), local(2027, 6, 1))


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError):
        last_complete_daily(AT7, VN, datetime(2026, 2, 23, 7))


# -- properties -------------------------------------------------------------------------------

ZONES = [HCM, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1),
                       timezones=st.just(UTC))
days_near_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> tuple[periods.Schedule, WorkingCalendar | None]:
    zone = draw(st.sampled_from(ZONES))
    at = draw(st.times())
    schedule = periods.Schedule(zone, at.replace(microsecond=0), "monday", time(7, 0))
    if draw(st.booleans()) and draw(st.booleans()):
        return schedule, None
    off = draw(st.frozensets(days_near_2026, max_size=40))
    work = draw(st.frozensets(days_near_2026, max_size=10)) - off
    return schedule, WorkingCalendar(off, work, official=VN.official)


@settings(max_examples=150, deadline=None)
@given(calendars(), moments, st.integers(min_value=1, max_value=40))
@example(  # daily_at inside the spring-forward gap (found by hypothesis once)
    (periods.Schedule(ZoneInfo("Europe/Berlin"), time(2, 0), "monday", time(7, 0)), None),
    datetime(2026, 4, 1, tzinfo=UTC), 3)
def test_periods_tile_time_without_gaps_or_overlaps(
        cal: tuple[periods.Schedule, WorkingCalendar | None], until: datetime, days: int) -> None:
    schedule, calendar = cal
    after = until - timedelta(days=days)
    found = daily_periods_ending(schedule, calendar, after, until)
    for a, b in zip(found, found[1:], strict=False):
        assert a.end == b.start  # no gap, no overlap
    sends = [d for d in (after.astimezone(schedule.tz).date() + timedelta(days=i)
                         for i in range(days + 2))
             if calendar is None or calendar.is_working_day(d)]
    # In UTC: PEP 495 makes a local time in a DST gap unequal to every time of another
    # zone, so a boundary at 02:00 on a spring-forward night must be compared as UTC.
    boundaries = [datetime.combine(d, schedule.daily_at, tzinfo=schedule.tz).astimezone(UTC)
                  for d in sends]
    assert [p.end for p in found] == [b for b in boundaries if after < b <= until]
    for p in found:  # each starts on the sending day before the one it ends on
        assert p.start < p.end
        start_day = p.start.astimezone(schedule.tz).date()
        assert calendar is None or calendar.is_working_day(start_day)
        assert not any(p.start < b < p.end for b in boundaries)


@settings(max_examples=150, deadline=None)
@given(calendars(), moments)
def test_last_complete_is_the_latest_period_ending_by_now(
        cal: tuple[periods.Schedule, WorkingCalendar | None], now: datetime) -> None:
    schedule, calendar = cal
    period = last_complete_daily(schedule, calendar, now)
    assert period.end <= now
    later = digest_schedule(schedule, calendar, period.end.astimezone(schedule.tz).date()
                            + timedelta(days=1), 400)
    assert later[0].period.start == period.end and later[0].period.end > now


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), st.times(), moments)
def test_without_a_calendar_it_is_todays_daily_period(zone: ZoneInfo, at: time,
                                                      now: datetime) -> None:
    schedule = periods.Schedule(zone, at.replace(microsecond=0), "monday", time(7, 0))
    assert last_complete_daily(schedule, None, now) == periods.last_complete(
        schedule, "daily", now)
