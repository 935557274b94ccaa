"""Daily runs on Vietnam's working calendar, as the daemon makes them (a daily tick at 07:00
and the recovery tick), in Asia/Ho_Chi_Minh: which runs exist, what each covers and holds;
and switching the calendar (or moving daily_at) never makes runs that overlap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.planning import due
from syndicator.state.schema import deliveries, digest_contents, digest_runs

from .delivery_data import add_bulletin, add_subscriber

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
WORKING = Settings(digests={"working_days_only": True})
EVERY_DAY = Settings()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def publish_daily(engine: sa.Engine, first: date, last: date) -> dict[date, int]:
    """One bulletin first seen at 10:00 every day, weekends and holidays included."""
    return {d: add_bulletin(engine, datetime.combine(d, time(10), HCM).astimezone(UTC))
            for d in days(first, last)}


def tick_daily(settings: Settings, engine: sa.Engine, first: date, last: date) -> None:
    """What the daemon does each day at 07:00: the daily job, then the recovery tick."""
    for d in days(first, last):
        at = datetime.combine(d, time(7, 0, 30), HCM)
        due.run_digest(settings, engine, "daily", at, wait_seconds=0)
        due.recover_runs(settings, engine, at)


def runs(engine: sa.Engine) -> list[tuple[datetime, datetime, set[int], int]]:
    """Daily runs oldest first: (local start, local end, bulletin ids, deliveries)."""
    with engine.connect() as conn:
        found = conn.execute(sa.select(digest_runs).where(digest_runs.c.frequency == "daily")
                             .order_by(digest_runs.c.period_start)).all()
        out = []
        for r in found:
            ids = {int(i) for c in conn.execute(sa.select(digest_contents.c.bulletin_ids)
                                                .where(digest_contents.c.run_id == r.id))
                   for i in c.bulletin_ids}
            count = conn.scalar(sa.select(sa.func.count()).select_from(deliveries)
                                .where(deliveries.c.run_id == r.id))
            out.append((r.period_start.astimezone(HCM), r.period_end.astimezone(HCM), ids,
                        count))
    return out


def spans(engine: sa.Engine, since: datetime) -> list[tuple[datetime, datetime]]:
    return [(s, e) for s, e, _, _ in runs(engine) if e > since]


def assert_no_overlap_and_nothing_twice(engine: sa.Engine) -> None:
    made = runs(engine)
    for (_, end, _, _), (start, _, _, _) in zip(made, made[1:], strict=False):
        assert start >= end, f"a run starts at {start} before the previous one ends at {end}"
    seen = [i for _, _, ids, _ in made for i in ids]
    assert len(seen) == len(set(seen)), "a bulletin is in two runs"


def test_tet_2026_the_first_working_day_covers_the_whole_break(state: sa.Engine) -> None:
    add_subscriber(state, "a@example.gov.vn")
    seen = publish_daily(state, date(2026, 2, 11), date(2026, 2, 23))
    tick_daily(WORKING, state, date(2026, 2, 11), date(2026, 2, 24))
    made = [(s, e, ids, n) for s, e, ids, n in runs(state) if e >= local(2026, 2, 12, 7)]
    assert [(s, e) for s, e, _, _ in made] == [
        (local(2026, 2, 11, 7), local(2026, 2, 12, 7)),
        (local(2026, 2, 12, 7), local(2026, 2, 13, 7)),
        # Saturday 14/2 to Sunday 22/2 off: weekends and Tết (16-20/2), one digest for all.
        (local(2026, 2, 13, 7), local(2026, 2, 23, 7)),
        (local(2026, 2, 23, 7), local(2026, 2, 24, 7)),
    ]
    gap = made[2]
    assert gap[2] == {seen[d] for d in days(date(2026, 2, 13), date(2026, 2, 22))}
    assert gap[3] == 1  # one message to the subscriber for the ten days
    assert_no_overlap_and_nothing_twice(state)


def test_hung_kings_day_30_4_and_1_5_in_2026(state: sa.Engine) -> None:
    add_subscriber(state, "a@example.gov.vn")
    seen = publish_daily(state, date(2026, 4, 23), date(2026, 5, 4))
    tick_daily(WORKING, state, date(2026, 4, 23), date(2026, 5, 5))
    assert spans(state, local(2026, 4, 24, 6)) == [
        (local(2026, 4, 23, 7), local(2026, 4, 24, 7)),
        # Giỗ Tổ fell on Sunday 26/4: Monday 27/4 is off in its place.
        (local(2026, 4, 24, 7), local(2026, 4, 28, 7)),
        (local(2026, 4, 28, 7), local(2026, 4, 29, 7)),
        # 30/4 (Thursday), 1/5 (Friday) and the weekend: back on Monday 4/5.
        (local(2026, 4, 29, 7), local(2026, 5, 4, 7)),
        (local(2026, 5, 4, 7), local(2026, 5, 5, 7)),
    ]
    covering = {e.date(): ids for _, e, ids, _ in runs(state)}
    assert covering[date(2026, 5, 4)] == {seen[d] for d in days(date(2026, 4, 29),
                                                                  date(2026, 5, 3))}
    assert_no_overlap_and_nothing_twice(state)


def test_national_day_2026_and_the_make_up_saturday_before_it(state: sa.Engine) -> None:
    add_subscriber(state, "a@example.gov.vn")
    publish_daily(state, date(2026, 8, 20), date(2026, 9, 3))
    tick_daily(WORKING, state, date(2026, 8, 20), date(2026, 9, 4))
    ends = [e.date() for _, e in spans(state, local(2026, 8, 21, 6))]
    # Saturday 22/8 is worked (in exchange for Monday 31/8); 1/9 and 2/9 are Quốc khánh.
    assert ends == [date(2026, 8, 21), date(2026, 8, 22), date(2026, 8, 24), date(2026, 8, 25),
                    date(2026, 8, 26), date(2026, 8, 27), date(2026, 8, 28), date(2026, 9, 3),
                    date(2026, 9, 4)]
    assert spans(state, local(2026, 9, 2, 0))[0] == (local(2026, 8, 28, 7), local(2026, 9, 3, 7))
    assert_no_overlap_and_nothing_twice(state)


def test_a_make_up_saturday_and_a_day_off_from_the_configuration(state: sa.Engine) -> None:
    # A decision the library cannot know yet: Friday 3/9/2027 off, Saturday 11/9 worked.
    settings = Settings(digests={"working_days_only": True, "extra_days_off": ["2027-09-03"],
                                 "extra_working_days": ["2027-09-11"]})
    add_subscriber(state, "a@example.gov.vn")
    publish_daily(state, date(2027, 9, 1), date(2027, 9, 13))
    tick_daily(settings, state, date(2027, 9, 1), date(2027, 9, 14))
    assert spans(state, local(2027, 9, 1, 8)) == [
        (local(2027, 9, 1, 7), local(2027, 9, 6, 7)),  # 2/9 Quốc khánh, 3/9 from config
        (local(2027, 9, 6, 7), local(2027, 9, 7, 7)),
        (local(2027, 9, 7, 7), local(2027, 9, 8, 7)),
        (local(2027, 9, 8, 7), local(2027, 9, 9, 7)),
        (local(2027, 9, 9, 7), local(2027, 9, 10, 7)),
        (local(2027, 9, 10, 7), local(2027, 9, 11, 7)),
        (local(2027, 9, 11, 7), local(2027, 9, 13, 7)),  # the make-up Saturday has its digest
        (local(2027, 9, 13, 7), local(2027, 9, 14, 7)),
    ]
    assert_no_overlap_and_nothing_twice(state)


def test_recovery_after_downtime_across_tet_makes_one_run_for_the_break(
        state: sa.Engine) -> None:
    add_subscriber(state, "a@example.gov.vn")
    seen = publish_daily(state, date(2026, 2, 12), date(2026, 2, 23))
    tick_daily(WORKING, state, date(2026, 2, 12), date(2026, 2, 13))
    # Down from Friday 13/2 08:00 to Tuesday 24/2 08:00: the recovery tick catches up.
    due.recover_runs(WORKING, state, local(2026, 2, 24, 8))
    assert spans(state, local(2026, 2, 13, 8)) == [
        (local(2026, 2, 13, 7), local(2026, 2, 23, 7)),
        (local(2026, 2, 23, 7), local(2026, 2, 24, 7)),
    ]
    assert runs(state)[-2][2] == {seen[d] for d in days(date(2026, 2, 13), date(2026, 2, 22))}


@pytest.mark.parametrize("before,after,switch_on", [
    (WORKING, EVERY_DAY, date(2026, 4, 29)),
    # Switched on during the break: runs for 30/4, 1/5 and 2/5 exist; the next working day's
    # run starts where the last of them ended, not at 29/4 as the calendar alone would say.
    (EVERY_DAY, WORKING, date(2026, 5, 2)),
    # Switched off in the middle of the 30/4-3/5 break: the days the calendar skipped become
    # ordinary missed periods, each sent (late) by the recovery tick; none overlaps.
    (WORKING, EVERY_DAY, date(2026, 5, 2)),
])
def test_switching_the_calendar_never_overlaps_runs_already_made(
        sqlite_state: sa.Engine, before: Settings, after: Settings, switch_on: date) -> None:
    state = sqlite_state
    add_subscriber(state, "a@example.gov.vn")
    # 27/4/2026 (Monday) and 30/4-1/5 are holidays.
    publish_daily(state, date(2026, 4, 20), date(2026, 5, 5))
    tick_daily(before, state, date(2026, 4, 20), switch_on)
    switched = datetime.combine(switch_on, time(12), HCM)  # flipped at noon, then a restart
    due.recover_runs(after, state, switched)
    tick_daily(after, state, switch_on + timedelta(days=1), date(2026, 5, 6))
    assert_no_overlap_and_nothing_twice(state)
    made = runs(state)
    assert len({i for _, _, ids, _ in made for i in ids}) == 16  # 20/4-5/5: each in one run
    after_switch = [e.date() for _, e, _, _ in made if e > switched]
    if after is WORKING:  # from then on working days only, from the previous run's end
        assert after_switch == [date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)]
        assert made[-3][0] == local(2026, 5, 2, 7)
    else:
        assert after_switch == days(switch_on + timedelta(days=1), date(2026, 5, 6))


def test_a_run_starts_where_the_previous_one_ended_when_daily_at_moves(
        sqlite_state: sa.Engine) -> None:
    state = sqlite_state
    add_subscriber(state, "a@example.gov.vn")
    publish_daily(state, date(2026, 3, 1), date(2026, 3, 4))
    tick_daily(EVERY_DAY, state, date(2026, 3, 2), date(2026, 3, 3))
    later = Settings(digests={"daily_at": "08:00"})
    due.run_digest(later, state, "daily", local(2026, 3, 4, 8, 1), wait_seconds=0)
    due.recover_runs(later, state, local(2026, 3, 4, 8, 1))
    assert spans(state, local(2026, 3, 3, 0)) == [
        (local(2026, 3, 2, 7), local(2026, 3, 3, 7)),
        # Not 2/3 08:00 to 3/3 08:00 (which would send 2/3 08:00-3/3 07:00 twice): the hour
        # between the old time and the new one is a run of its own.
        (local(2026, 3, 3, 7), local(2026, 3, 3, 8)),
        (local(2026, 3, 3, 8), local(2026, 3, 4, 8)),
    ]
    assert_no_overlap_and_nothing_twice(state)


@pytest.fixture
def sqlite_state(sqlite_url: str) -> Any:
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    yield engine
    engine.dispose()
