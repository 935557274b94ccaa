"""The daemon's jobs: each one wraps a service call with timing, metrics, health and logs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.errors import SyndicatorError
from syndicator.state import db as state_db
from syndicator.state import leases
from syndicator.telemetry import metrics
from syndicator.telemetry.health import Health

log = structlog.get_logger(__name__)
T = TypeVar("T")

# Feeds are rebuilt at least this often even when nothing changed: withdrawn-entry
# tombstones expire with time, not with data.
FEEDS_MAX_AGE_SECONDS = 3600.0
PURGE_EVERY_SECONDS = 3600.0  # retention purges scan the outbox: not every recovery tick
# One daemon per SQLite file, renewed by every heartbeat (5 s). Short: a daemon killed in a
# container that restarts (a new pid namespace: we cannot tell it is gone) holds the file
# this long.
DAEMON_LEASE_SECONDS = 30.0


class Jobs:
    """One instance per daemon; APScheduler calls its coroutine methods."""

    def __init__(self, settings: Settings, engine: Engine, health: Health,
                 features: frozenset[str] = frozenset({"feeds", "delivery"})) -> None:
        self.settings = settings
        self.features = features
        self.engine = engine
        self.health = health
        self.wake_delivery = asyncio.Event()
        self.stopping = asyncio.Event()
        self._running: dict[asyncio.Task[Any], int] = {}  # task -> guarded runs in progress
        self._feeds_fingerprint: tuple[Any, ...] | None = None
        self._feeds_built_at = 0.0
        self._feeds_forced = True  # build once at start
        self._feeds_lock = asyncio.Lock()  # the scheduled check and a poll's rebuild
        self._source: Any = None  # one PortalSource: its engine and reflected shape are kept
        self._purged_at = -PURGE_EVERY_SECONDS

    async def _guard(self, job: str, work: Callable[[], Awaitable[T]],
                     quiet: bool = False) -> T | None:
        """Time a run, record success/failure; refuses to start once stopping. `quiet`: an
        expected failure is counted but not logged (the caller logs it once per outage)."""
        if self.stopping.is_set():
            return None
        task = asyncio.current_task()
        if task is not None:  # counted: a poll's task runs the feeds job inside its own
            self._running[task] = self._running.get(task, 0) + 1
        start = time.monotonic()
        try:
            result = await work()
        except (SyndicatorError, sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            # Expected in operation (a database or server away): one line, no traceback.
            metrics.job_failed(job, time.monotonic() - start)
            if not quiet:
                log.warning("job.failed", job=job, error=_reason(exc),
                            error_type=type(exc).__name__)
            raise
        except Exception:
            metrics.job_failed(job, time.monotonic() - start)
            log.exception("job.crashed", job=job)
            raise
        finally:
            if task is not None:
                self._running[task] -= 1
                if not self._running[task]:
                    del self._running[task]
        metrics.job_succeeded(job, time.monotonic() - start)
        return result

    async def drain(self, timeout: float) -> bool:
        """Wait for running jobs (their threads cannot be cancelled); True if all finished."""
        pending = {t for t in self._running if t is not asyncio.current_task()}
        if not pending:
            return True
        _, still = await asyncio.wait(pending, timeout=timeout)
        return not still

    # -- heartbeat -----------------------------------------------------------------
    async def heartbeat(self) -> None:
        """Probes the state database; its regular submission also proves the scheduler ticks."""
        try:
            # Health.database logs the outage once, as it starts and as it ends.
            await self._guard("heartbeat", lambda: asyncio.to_thread(self._probe), quiet=True)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", said once
            self.health.database(False, _reason(exc))
        else:
            self.health.database(True)
        metrics.ready(not self.health.problems())

    def _probe(self) -> None:
        state_db.probe(self.engine)
        if self.engine.dialect.name == "sqlite":  # keep this daemon's claim on the file
            leases.acquire(self.engine, leases.DAEMON, DAEMON_LEASE_SECONDS)

    # -- poll ----------------------------------------------------------------------
    async def poll(self) -> None:
        from syndicator.runtime.poll import PollBusy, poll_once

        source = self._portal()
        try:
            report = await self._guard("poll", lambda: asyncio.to_thread(
                poll_once, self.settings, self.engine, source))
        except PollBusy:
            self.health.poll(True)  # a replica is polling: the data is being kept fresh
            log.info("poll.skipped", reason="another replica holds the poll lease")
            return
        except Exception as exc:  # noqa: BLE001 - logged by _guard; readiness says why
            self.health.poll(False, _reason(exc))
            self._forget_portal()  # the portal may have changed: reflect it afresh next time
            return
        if report is None:
            return
        self.health.poll(True)
        for kind in ("new", "changed", "withdrawn", "archived"):
            metrics.bulletins_ingested(kind, len(getattr(report, kind)))
        if report.changed_anything and "feeds" in self.features:
            self._feeds_forced = True
            await self.feeds()
        if report.new:
            self.wake_delivery.set()

    def _portal(self) -> Any:
        from syndicator.source.portal import PortalSource

        if self._source is None:
            self._source = PortalSource(self.settings.source, self.settings.tz)
        return self._source

    def _forget_portal(self) -> None:
        if self._source is not None:
            self._source.engine.dispose()
            self._source = None

    # -- feeds ---------------------------------------------------------------------
    async def feeds(self) -> None:
        """Rebuild when our copy of the bulletins changed (possibly by another replica's poll)."""
        async with self._feeds_lock:
            await self._run_quietly(lambda: self._guard("feeds", self._feeds_if_needed))

    async def _feeds_if_needed(self) -> None:
        from syndicator.feeds.directory import build_all

        fingerprint = await asyncio.to_thread(_bulletins_fingerprint, self.engine)
        stale = time.monotonic() - self._feeds_built_at > FEEDS_MAX_AGE_SECONDS
        if not (self._feeds_forced or stale or fingerprint != self._feeds_fingerprint):
            return
        self._feeds_forced = False
        report = await asyncio.to_thread(build_all, self.settings, self.engine)
        self._feeds_fingerprint, self._feeds_built_at = fingerprint, time.monotonic()
        metrics.feeds_rebuilt(len(report.written) + len(report.removed))

    # -- digests, recovery -----------------------------------------------------------
    async def digest(self, frequency: str) -> None:
        from syndicator.planning.due import IngestBusy, run_digest

        now = datetime.now(UTC)

        async def create() -> None:
            try:
                await asyncio.to_thread(run_digest, self.settings, self.engine, frequency, now)
            except IngestBusy:  # not a failure: the recovery tick creates it once settled
                log.info("digest.deferred", frequency=frequency,
                         reason="a poll across the period's end is still committing")

        await self._run_quietly(lambda: self._guard(f"digest_{frequency}", create))
        self.wake_delivery.set()

    async def recovery(self) -> None:
        """Create digest runs missed while no replica was up; requeue abandoned sends; raise
        the alert of runs past their deadline."""
        now = datetime.now(UTC)
        await self._run_quietly(lambda: self._guard("recovery", lambda: asyncio.to_thread(
            self._recover, now)))
        self.wake_delivery.set()  # also picks up retries whose backoff just ended

    def _recover(self, now: datetime) -> None:
        from syndicator.delivery import upkeep
        from syndicator.planning.corrections import queue_corrections
        from syndicator.planning.deadlines import check_deadlines
        from syndicator.planning.due import purge_cutoff, recover_runs
        from syndicator.runtime.clock import check_clock

        check_clock(self.settings, self.engine)  # the real clock's, as in every caller
        recover_runs(self.settings, self.engine, now)
        queue_corrections(self.settings, self.engine, now)
        upkeep.reclaim_dead_leases(self.engine)
        check_deadlines(self.settings, self.engine, now)
        if time.monotonic() - self._purged_at > PURGE_EVERY_SECONDS:  # scans the outbox
            self._purged_at = time.monotonic()
            upkeep.purge(self.engine, purge_cutoff(self.settings, now))

    # -- what comes back ---------------------------------------------------------------
    async def returns(self) -> None:
        """Read the bounce mailbox (when configured), forward what needs a person."""
        from syndicator.runtime.returns import returns_round

        await self._run_quietly(lambda: self._guard("returns", lambda: asyncio.to_thread(
            returns_round, self.settings, self.engine)))

    # -- delivery --------------------------------------------------------------------
    async def delivery_loop(self, send_stop: asyncio.Event) -> None:
        """Send what is due, then sleep until woken (poll, digest) or a retry may be due."""
        idle = max(1.0, min(30.0, min(self.settings.delivery.retry_delays) / 2))
        while not send_stop.is_set():
            self.wake_delivery.clear()
            await self._run_quietly(lambda: self._guard(
                "deliver", lambda: self._deliver_if_due(send_stop)))
            await _wait_any(self.wake_delivery, send_stop, timeout=idle)

    async def _deliver_if_due(self, send_stop: asyncio.Event) -> None:
        """Counting first keeps an idle daemon from opening SMTP sessions every few seconds."""
        from syndicator.delivery import backlog
        from syndicator.delivery.send import SenderBusy, deliver_due

        _, due = await asyncio.to_thread(backlog.depth, self.engine)
        if not due:
            return
        try:
            await deliver_due(self.settings, self.engine, send_stop)
        except SenderBusy as exc:  # a `syndicator deliver` run holds the SQLite sender lease
            log.info("delivery.skipped", reason=str(exc))
        await asyncio.to_thread(backlog.depth, self.engine)

    async def _run_quietly(self, job: Callable[[], Awaitable[Any]]) -> None:
        """Already logged and counted by _guard; a failure must not end the caller."""
        try:
            await job()
        except Exception:  # noqa: BLE001 - logged and counted by _guard already
            pass


async def _wait_any(*events: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


def _bulletins_fingerprint(engine: Engine) -> tuple[Any, ...]:
    """Cheap summary that changes whenever any bulletin row is added or changed."""
    from syndicator.state import bulletins

    with engine.connect() as conn:
        return bulletins.fingerprint(conn)


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
