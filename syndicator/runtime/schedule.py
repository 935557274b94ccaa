"""The schedule as data: which job runs when, on one APScheduler 3.x scheduler per process."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syndicator.config.settings import Settings
from syndicator.runtime import returns
from syndicator.runtime.jobs import Jobs
from syndicator.telemetry.health import HEARTBEAT_SECONDS, Health

RECOVERY_SECONDS = 60
# A run that is late (a stalled loop, a suspended VM) still runs, once (coalesce).
# Runs missed while no process was up are not the scheduler's business: the
# recovery job finds them in the database (see docs/adr/005).
MISFIRE_GRACE_SECONDS = 3600
DIGEST_MISFIRE_GRACE_SECONDS = 12 * 3600


def build_scheduler(settings: Settings, jobs: Jobs, health: Health,
                    features: frozenset[str]) -> AsyncIOScheduler:
    """A memory-store scheduler in the configured zone; `features` names the jobs to wire."""
    tz = settings.tz
    scheduler = AsyncIOScheduler(
        jobstores={"default": MemoryJobStore()},  # never shared between processes
        executors={"default": AsyncIOExecutor()},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        timezone=tz,
    )
    now = datetime.now(tz)
    poll_every = IntervalTrigger(seconds=settings.poll.interval_seconds, timezone=tz)
    scheduler.add_job(jobs.heartbeat, IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=tz),
                      id="heartbeat", next_run_time=now)
    scheduler.add_job(jobs.poll, poll_every, id="poll", next_run_time=now)
    if "feeds" in features:
        # Also catches changes another replica's poll made to the shared database.
        scheduler.add_job(jobs.feeds, poll_every, id="feeds", next_run_time=now)
    if "delivery" in features:
        _add_digest_jobs(scheduler, settings, jobs)
        scheduler.add_job(jobs.recovery, IntervalTrigger(seconds=RECOVERY_SECONDS, timezone=tz),
                          id="recovery", next_run_time=now + timedelta(seconds=5))

    scheduler.add_job(jobs.returns, IntervalTrigger(seconds=returns.interval(settings),
                                                    timezone=tz),
                      id="returns", next_run_time=now + timedelta(seconds=2))

    def ticked(_: JobEvent) -> None:
        health.tick()

    scheduler.add_listener(ticked, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def _add_digest_jobs(scheduler: AsyncIOScheduler, settings: Settings, jobs: Jobs) -> None:
    d, tz = settings.digests, settings.tz
    scheduler.add_job(jobs.digest, CronTrigger(hour=d.daily_at.hour, minute=d.daily_at.minute,
                                               timezone=tz),
                      args=["daily"], id="digest_daily",
                      misfire_grace_time=DIGEST_MISFIRE_GRACE_SECONDS)
    scheduler.add_job(jobs.digest, CronTrigger(day_of_week=d.weekly_on[:3], hour=d.weekly_at.hour,
                                               minute=d.weekly_at.minute, timezone=tz),
                      args=["weekly"], id="digest_weekly",
                      misfire_grace_time=DIGEST_MISFIRE_GRACE_SECONDS)
