"""Readiness verdicts and the schedule as data (no loop started, no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syndicator.config.settings import Settings
from syndicator.runtime.jobs import Jobs
from syndicator.runtime.schedule import DIGEST_MISFIRE_GRACE_SECONDS, build_scheduler
from syndicator.telemetry.health import Health

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ready_only_when_ticking_database_answering_and_poll_succeeded() -> None:
    clock = Clock()
    h = Health(clock=clock)
    assert len(h.problems()) == 3  # nothing seen yet
    h.tick()
    h.database(True)
    h.poll(True)
    assert h.problems() == []
    h.poll(False, "connection to server at portal-db.internal failed for user reader")
    # Public: what is wrong, never a host, user or database name (the log has the detail).
    assert h.problems() == ["last poll failed (see the job.failed log line)"]
    h.poll(True)
    clock.now += 31  # no tick, no database answer for 31 s
    assert h.problems() == ["scheduler has not ticked for 31 s",
                            "state database has not answered for 31 s"]
    h.tick()
    h.database(False, "connection to server at state-db.internal refused")
    assert h.problems() == ["state database unreachable"]
    h.database(True)
    h.stopping = True
    assert h.problems() == ["shutting down"]


@pytest.fixture
async def jobs_and_scheduler() -> Any:
    """Started paused: job defaults apply at start, and nothing runs."""
    settings = Settings(digests={"daily_at": "06:30", "weekly_on": "friday",
                                 "weekly_at": "17:00"}, poll={"interval_seconds": 90})
    jobs = Jobs(settings, None, Health())  # type: ignore[arg-type]
    scheduler = build_scheduler(settings, jobs, Health(), frozenset({"feeds", "delivery"}))
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def test_schedule_in_the_configured_zone(jobs_and_scheduler: Any) -> None:
    jobs = {j.id: j for j in jobs_and_scheduler.get_jobs()}
    assert set(jobs) == {"heartbeat", "poll", "feeds", "digest_daily", "digest_weekly",
                         "recovery", "returns"}
    after = datetime(2026, 11, 25, 8, 0, tzinfo=HCM)  # a Wednesday
    daily = jobs["digest_daily"].trigger.get_next_fire_time(None, after)
    weekly = jobs["digest_weekly"].trigger.get_next_fire_time(None, after)
    assert daily == datetime(2026, 11, 26, 6, 30, tzinfo=HCM)
    assert weekly == datetime(2026, 11, 27, 17, 0, tzinfo=HCM)
    assert str(daily.tzinfo) == "Asia/Ho_Chi_Minh"
    assert jobs["poll"].trigger.interval.total_seconds() == 90
    assert jobs["digest_daily"].misfire_grace_time == DIGEST_MISFIRE_GRACE_SECONDS


def test_job_defaults_coalesce_one_instance_generous_grace(jobs_and_scheduler: Any) -> None:
    for job in jobs_and_scheduler.get_jobs():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time >= 3600


@pytest.mark.parametrize(("bounces", "expected"), [
    ({}, 60),
    ({"return_path": "bounces@bounce.example"}, 60),
    ({"imap": {"url": "imaps://u:p@mail.example/INBOX", "interval_seconds": 15}}, 15)])
def test_the_returns_job_reads_the_mailbox_at_its_interval(
        bounces: dict[str, Any], expected: int) -> None:
    settings = Settings(bounces=bounces)
    jobs = Jobs(settings, None, Health())  # type: ignore[arg-type]
    scheduler = build_scheduler(settings, jobs, Health(), frozenset({"feeds", "delivery"}))
    job = scheduler.get_job("returns")
    assert (job.trigger.interval.total_seconds() if job else None) == expected
