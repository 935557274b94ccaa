"""Records what became of each message, in short transactions that never hold up a sender."""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from syndicator.config.settings import Settings
from syndicator.delivery import backlog, retry
from syndicator.delivery.prepare import Prepared
from syndicator.delivery.report import DeliverReport
from syndicator.delivery.transport import Outcome
from syndicator.state import corrections, leases, outbox
from syndicator.state import runs as run_store
from syndicator.state import subscribers as subscriber_store
from syndicator.state.conflicts import with_retries
from syndicator.subscribers import outcomes
from syndicator.telemetry import metrics

log = structlog.get_logger(__name__)

SKIP = Outcome("retry", None, "")  # the outcome of a delivery skipped before sending
_COMPLETE_EVERY = 2.0  # seconds between checks for runs whose deliveries are all final
_RESULT_LABEL = {"retried": "retry"}  # report counter -> metrics `result` label
Result = tuple[Prepared, Outcome]


class Recorder:
    """Writes results as soon as the previous write is done: the window in which a crash
    forgets a sent message is one short transaction, and senders never wait for it."""

    def __init__(self, settings: Settings, engine: sa.Engine, report: DeliverReport) -> None:
        self._settings = settings
        self._engine = engine
        self._report = report
        self._pending: list[Result] = []
        self._has_results = asyncio.Event()
        self._closing = False
        self._checked = time.monotonic()

    def add(self, item: Prepared, outcome: Outcome) -> None:
        self._pending.append((item, outcome))
        self._has_results.set()

    def close(self) -> None:
        """Write what is left, then end run()."""
        self._closing = True
        self._has_results.set()

    async def run(self) -> None:
        failures = 0
        while True:
            await self._has_results.wait()
            self._has_results.clear()
            batch, self._pending = self._pending, []
            try:
                if batch:
                    await asyncio.to_thread(with_retries, functools.partial(self.write, batch))
                failures = 0
            except sa.exc.DBAPIError as exc:
                # Cannot record: stop sending (each unrecorded message is a future duplicate).
                failures += 1
                reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
                log.error("delivery.record_failed", error=reason, attempt=failures)
                self._report.unreachable = self._report.unreachable or f"state database: {reason}"
                self._pending[:0] = batch
                if failures >= 5 and self._closing:
                    raise
                await asyncio.sleep(min(2.0 ** failures, 10))
                self._has_results.set()
                continue
            if self._closing and not self._pending:
                return

    def write(self, batch: list[Result]) -> None:
        """One transaction for a batch of results; counted in the report once committed."""
        now = datetime.now(UTC)
        accepted: list[tuple[int, int | None, str]] = []
        tally: Counter[str] = Counter()
        results: list[tuple[str, int | None]] = []  # (counter, SMTP code) for the metrics
        with self._engine.begin() as conn:
            for item, outcome in batch:
                if outcome is not SKIP and outcome.status == "sent":
                    accepted.append((item.claim.id, outcome.code, outcome.reply))
                    counter = "sent"
                else:
                    counter = self._unsent(conn, item, outcome, now)
                tally[counter] += 1
                results.append((counter, outcome.code))
            outbox.mark_sent(conn, accepted, now)
            subscriber_store.reset_bounces(conn, [i.claim.subscriber_id for i, o in batch
                                                  if o is not SKIP and o.status == "sent"
                                                  and i.claim.subscriber_id is not None])
            if time.monotonic() - self._checked > _COMPLETE_EVERY:
                # Checked now and then, and at the end of the round: it reads the whole run.
                self._checked = time.monotonic()
                tally["runs_completed"] += run_store.complete_finished(conn, now)
        self._count(batch, tally, results)
        # Subscribers' messages only: a canary's copy goes first and would flatter the wait.
        backlog.record_latency(self._engine, [i.claim.content_id for i, o in batch
                                              if o is not SKIP and o.status == "sent"
                                              and i.claim.content_id is not None
                                              and i.claim.kind == outbox.DIGEST], now)

    def complete_runs(self) -> None:
        with self._engine.begin() as conn:
            self._report.runs_completed += run_store.complete_finished(
                conn, datetime.now(UTC))

    def _unsent(self, conn: sa.Connection, item: Prepared, o: Outcome, now: datetime) -> str:
        """Record a result other than sent; returns the report counter it belongs to."""
        c = item.claim
        kind = "skip" if o is SKIP else o.status
        verdict = retry.after_attempt(kind, c.attempts, self._settings.delivery, now)
        reply = (item.skip or "") if o is SKIP else o.reply
        if kind == "bounce" and c.subscriber_id is not None:  # a configured address: no one
            outcomes.hard_bounce(conn, c.subscriber_id, o.code,
                                 self._settings.delivery.bounce_threshold, now)
        if (verdict.status == "failed" and c.kind in outbox.PAGE_MAILS
                and c.subscriber_id is not None):
            outcomes.page_mail_failed(conn, c.subscriber_id, c.kind, reply, now)
        if verdict.status in ("failed", "skipped") and c.kind == outbox.DIGEST:
            corrections.release(conn, c.id)  # held corrections wait for the next digest
        outbox.mark_attempt(conn, c.id, leases.OWNER, verdict.status, o.code, reply,
                            verdict.next_at, now)
        return verdict.counter

    def _count(self, batch: list[Result], tally: Counter[str],
               results: list[tuple[str, int | None]]) -> None:
        for name, count in tally.items():
            setattr(self._report, name, getattr(self._report, name) + count)
        for counter, code in results:  # counted once committed, under the result it ended with
            metrics.delivery(_RESULT_LABEL.get(counter, counter), code)
        for (item, _), (counter, _) in zip(batch, results, strict=True):
            if item.claim.kind in outbox.PAGE_MAILS and counter in ("sent", "failed", "bounced"):
                metrics.page_mail(item.claim.kind, counter == "sent")
