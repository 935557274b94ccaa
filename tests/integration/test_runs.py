"""Digest runs on every database: one per period, one delivery per eligible subscriber."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.delivery import upkeep
from syndicator.planning import due
from syndicator.state.schema import deliveries, digest_contents, digest_runs, subscribers

from .delivery_data import add_bulletin, add_subscriber, set_watermark

UTC = UTC
# 2026-11-25 07:00 in Asia/Ho_Chi_Minh is 00:00 UTC: the daily period is [24th 00:00, 25th 00:00).
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
IN_PERIOD = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def rows(engine: sa.Engine, table: sa.Table) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(table)))


def test_one_run_one_delivery_per_eligible_subscriber(state: sa.Engine) -> None:
    settings = Settings()
    add_bulletin(state, IN_PERIOD)
    add_bulletin(state, IN_PERIOD - timedelta(days=2))  # an earlier period
    add_bulletin(state, IN_PERIOD, category="Thi đua", slug="thi-dua")
    add_bulletin(state, IN_PERIOD, notify=False)  # archive import: never mailed
    ok = add_subscriber(state, "a@example.gov.vn")
    only_thi_dua = add_subscriber(state, "b@example.gov.vn", categories=["Thi đua"])
    add_subscriber(state, "c@example.gov.vn", categories=["Chuyển đổi số"])  # nothing matches
    add_subscriber(state, "d@example.gov.vn", status="pending")
    add_subscriber(state, "e@example.gov.vn", status="unsubscribed")
    add_subscriber(state, "f@example.gov.vn", paused=True)
    add_subscriber(state, "g@example.gov.vn", frequency="weekly")
    add_subscriber(state, "h@example.gov.vn", created=IN_PERIOD + timedelta(hours=1))

    first = due.run_digest(settings, state, "daily", NOW)
    again = due.run_digest(settings, state, "daily", NOW + timedelta(hours=3))

    assert first.created and first.deliveries == 2 and first.status == "sending"
    assert not again.created and again.run_id == first.run_id
    assert first.period_end == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    got = {r.subscriber_id: r for r in rows(state, deliveries)}
    assert set(got) == {ok, only_thi_dua}
    contents = {r.id: r for r in rows(state, digest_contents)}
    assert len(contents[got[ok].content_id].bulletin_ids) == 2
    assert len(contents[got[only_thi_dua].content_id].bulletin_ids) == 1
    assert len(rows(state, digest_runs)) == 1


def test_empty_period_gives_a_complete_run_and_no_mail(state: sa.Engine) -> None:
    add_subscriber(state, "a@example.gov.vn")
    report = due.run_digest(Settings(), state, "daily", NOW)
    assert report.created and report.deliveries == 0 and report.status == "complete"
    assert rows(state, deliveries) == []


def test_recovery_creates_runs_missed_in_the_last_seven_days(state: sa.Engine) -> None:
    add_subscriber(state, "a@example.gov.vn")
    add_subscriber(state, "w@example.gov.vn", frequency="weekly")
    for days in (1, 3, 6, 9):
        add_bulletin(state, IN_PERIOD - timedelta(days=days))
    runs = due.recover_runs(Settings(), state, NOW)
    daily = [r for r in runs if r.frequency == "daily"]
    assert len(daily) == 7 and sum(r.deliveries for r in daily) == 3
    assert [r.frequency for r in runs].count("weekly") == 1
    assert due.recover_runs(Settings(), state, NOW) == []  # idempotent


def test_immediate_run_from_the_ingest_watermark(state: sa.Engine) -> None:
    settings = Settings()
    sub = add_subscriber(state, "i@example.gov.vn", frequency="immediate")
    add_subscriber(state, "j@example.gov.vn", frequency="immediate", categories=["Thi đua"])
    add_bulletin(state, NOW)
    assert due.queue_immediate(settings, state, NOW) is None  # not committed by ingest yet
    set_watermark(state, NOW)
    first = due.queue_immediate(settings, state, NOW)
    assert first is not None and first.created and first.deliveries == 1
    assert due.queue_immediate(settings, state, NOW) is None  # nothing new since
    later = NOW + timedelta(minutes=1)
    add_bulletin(state, later)
    set_watermark(state, later)
    second = due.queue_immediate(settings, state, later)
    assert second is not None and second.period_start == first.period_end
    assert [r.subscriber_id for r in rows(state, deliveries)] == [sub, sub]


def test_a_bounced_or_unsubscribed_subscriber_is_not_queued(state: sa.Engine) -> None:
    add_bulletin(state, IN_PERIOD)
    sid = add_subscriber(state, "a@example.gov.vn")
    with state.begin() as conn:
        conn.execute(subscribers.update().where(subscribers.c.id == sid).values(status="bounced"))
    assert due.run_digest(Settings(), state, "daily", NOW).deliveries == 0


def test_retention_forgets_old_final_deliveries_but_not_recent_runs(state: sa.Engine) -> None:
    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "a@example.gov.vn")
    settings = Settings(delivery={"retention_days": 1})
    run = due.run_digest(settings, state, "daily", NOW)
    with state.begin() as conn:
        conn.execute(deliveries.update().values(status="sent"))
        conn.execute(digest_runs.update().values(status="complete"))
    created = datetime.now(UTC)  # rows carry the real clock's creation time
    # Two days later: beyond retention, but inside the recovery window: the run stays,
    # or recovery would create it again and send it twice.
    assert upkeep.purge(state, due.purge_cutoff(settings, created + timedelta(days=2))) == 0
    assert due.run_digest(settings, state, "daily", NOW).run_id == run.run_id
    assert upkeep.purge(state, due.purge_cutoff(settings, created + timedelta(days=9))) == 1
    assert rows(state, deliveries) == [] and rows(state, digest_runs) == []


def test_leases_of_a_dead_local_process_are_reclaimed(state: sa.Engine) -> None:
    from syndicator.state import outbox
    from syndicator.state.leases import PLACE

    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "a@example.gov.vn")
    due.run_digest(Settings(), state, "daily", NOW)
    now = datetime.now(UTC)
    dead = f"{PLACE}:999999:dead"
    with state.begin() as conn:
        assert len(outbox.claim(conn, dead, now, 10, 3600)) == 1
    with state.begin() as conn:
        assert outbox.claim(conn, "other", now, 10, 3600) == []  # the lease holds...
    assert upkeep.reclaim_dead_leases(state) == 1  # ...until its holder is known dead
    with state.begin() as conn:
        assert len(outbox.claim(conn, "other", now, 10, 3600)) == 1


def test_a_poll_in_flight_across_the_period_end_delays_the_run(state: sa.Engine) -> None:
    from syndicator.state.values import set_value

    add_subscriber(state, "a@example.gov.vn")
    real_now = datetime.now(UTC)
    set_watermark(state, datetime(2026, 11, 24, 23, 59, tzinfo=UTC))  # before the period end
    with state.begin() as conn:
        set_value(conn, "lease.poll", f"poller|{real_now.timestamp() + 300}")
    assert [r for r in due.recover_runs(Settings(), state, NOW)
            if r.period_end == datetime(2026, 11, 25, tzinfo=UTC)] == []
    # The poll commits bulletins it first saw before the end, then releases its lease.
    add_bulletin(state, datetime(2026, 11, 24, 23, 59, tzinfo=UTC))
    with state.begin() as conn:
        set_value(conn, "lease.poll", "poller|0")
    late = [r for r in due.recover_runs(Settings(), state, NOW)
            if r.period_end == datetime(2026, 11, 25, tzinfo=UTC)]
    assert len(late) == 1 and late[0].deliveries == 1


def test_digest_run_refuses_while_a_poll_is_committing_and_recovery_makes_it(
        state: sa.Engine) -> None:
    from syndicator.state.schema import digest_runs
    from syndicator.state.values import set_value

    add_subscriber(state, "a@example.gov.vn")
    set_watermark(state, datetime(2026, 11, 24, 23, 59, tzinfo=UTC))
    with state.begin() as conn:
        set_value(conn, "lease.poll", f"poller|{datetime.now(UTC).timestamp() + 300}")
    with pytest.raises(due.IngestBusy, match="still committing"):
        due.run_digest(Settings(), state, "daily", NOW, wait_seconds=0.5)
    with state.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(digest_runs)) == 0
    add_bulletin(state, datetime(2026, 11, 24, 23, 59, tzinfo=UTC))  # what the poll commits
    with state.begin() as conn:
        set_value(conn, "lease.poll", "poller|0")
    made = [r for r in due.recover_runs(Settings(), state, NOW)
            if r.frequency == "daily" and r.period_end == datetime(2026, 11, 25, tzinfo=UTC)]
    assert len(made) == 1 and made[0].deliveries == 1  # the late bulletin is in it
