"""Digest periods (planning) and the dates a reader is shown (compose), in Hà Nội time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from syndicator.compose.dates import label
from syndicator.config.settings import DigestSettings
from syndicator.planning import periods

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CFG = DigestSettings()  # daily 07:00, weekly Monday 07:00


def last_complete(frequency: str, now: datetime, cfg: DigestSettings,
                  tz: ZoneInfo) -> tuple[datetime, datetime]:
    period = periods.last_complete(periods.schedule(cfg, tz), frequency, now)
    return period.start, period.end


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM)


@pytest.mark.parametrize("now,start,end", [
    (local(2023, 11, 27, 7, 0), local(2023, 11, 26, 7), local(2023, 11, 27, 7)),
    (local(2023, 11, 27, 6, 59), local(2023, 11, 25, 7), local(2023, 11, 26, 7)),
    (local(2023, 11, 27, 23, 0), local(2023, 11, 26, 7), local(2023, 11, 27, 7)),
])
def test_last_complete_daily(now: datetime, start: datetime, end: datetime) -> None:
    assert last_complete("daily", now, CFG, HCM) == (start, end)


@pytest.mark.parametrize("now,start,end", [
    (local(2023, 11, 27, 7, 0), local(2023, 11, 20, 7), local(2023, 11, 27, 7)),
    (local(2023, 11, 27, 6, 0), local(2023, 11, 13, 7), local(2023, 11, 20, 7)),
    (local(2023, 12, 1, 12, 0), local(2023, 11, 20, 7), local(2023, 11, 27, 7)),
])
def test_last_complete_weekly(now: datetime, start: datetime, end: datetime) -> None:
    assert last_complete("weekly", now, CFG, HCM) == (start, end)


def test_periods_are_utc() -> None:
    start, end = last_complete("daily", utc(2023, 11, 27, 0, 30), CFG, HCM)
    assert end == utc(2023, 11, 27, 0, 0) and end.utcoffset() == start.utcoffset()


def test_midnight_schedules_name_the_day_before() -> None:
    midnight = DigestSettings(daily_at=time(0, 0), weekly_at=time(0, 0))
    s, e = last_complete("daily", local(2023, 11, 27, 8), midnight, HCM)
    assert label("daily", s, e, HCM).last == date(2023, 11, 26)
    s, e = last_complete("weekly", local(2023, 11, 27, 8), midnight, HCM)
    lab = label("weekly", s, e, HCM)
    assert (lab.first, lab.last) == (date(2023, 11, 20), date(2023, 11, 26))


def test_labels_for_morning_schedules_name_both_ends() -> None:
    s, e = last_complete("daily", local(2023, 11, 27, 7), CFG, HCM)
    lab = label("daily", s, e, HCM)
    assert (lab.first, lab.last, lab.whole_days) == (date(2023, 11, 26), date(2023, 11, 27),
                                                     False)
    assert (lab.start, lab.end) == (local(2023, 11, 26, 7), local(2023, 11, 27, 7))
    s, e = last_complete("weekly", local(2023, 11, 27, 7), CFG, HCM)
    lab = label("weekly", s, e, HCM)
    assert (lab.first, lab.last) == (date(2023, 11, 20), date(2023, 11, 27))
