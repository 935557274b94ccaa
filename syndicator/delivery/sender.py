"""One sending round: claim due deliveries, send them over the transport, record each result."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import structlog

from syndicator import metrics, observe
from syndicator.delivery import pacing
from syndicator.delivery.leases import OWNER, take_sender_lease
from syndicator.delivery.render import Prepared, Renderer, message_id_for
from syndicator.delivery.report import DeliverReport
from syndicator.delivery.retry import with_retries
from syndicator.delivery.transport import Outcome, Transport
from syndicator.settings import Settings
from syndicator.state import outbox
from syndicator.state import runs as run_store
from syndicator.state import subscribers as subscriber_store
from syndicator.state.outbox import Claimed

log = structlog.get_logger(__name__)

# Test-only: marks a delivery sent *before* sending it, the wrong order. The kill test runs
# with it to prove that it would notice lost mail. Never set outside tests.
UNSAFE_MARK_SENT_FIRST = False

_COMPLETE_EVERY = 2.0  # seconds between checks for runs whose deliveries are all final
SKIP = Outcome("retry", None, "")  # placeholder outcome for skipped deliveries
_RESULT_LABEL = {"retried": "retry"}  # report counter -> metrics `result` label


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Sender:
    """Claims in batches, sends on `connections` workers, records results in short transactions."""

    def __init__(self, settings: Settings, engine: sa.Engine, transport: Transport,
                 renderer: Renderer, stop: asyncio.Event, retry_now: bool = False) -> None:
        self._s = settings
        self._engine = engine
        self._t = transport
        self._r = renderer
        self._stop = stop
        self._retry_now = retry_now
        self._round_started = utcnow()
        self._workers = settings.smtp.connections if settings.mail.transport == "smtp" else 1
        self._batch = pacing.batch_size(settings, self._workers)
        # Claims wait in the queue under a lease. Each entry carries the monotonic time its
        # lease runs out (taken before the claim, so never later than the database's); a
        # worker gives back a claim with too little lease left instead of sending it (another
        # sender may take it any moment), and the producer claims only when the queue is down
        # to half a batch, halving its batch after a give-back: the look-ahead follows the
        # send rate.
        self._queue: asyncio.Queue[tuple[float, Prepared] | None] = asyncio.Queue()
        self._low = asyncio.Event()
        self._margin = 2 * settings.smtp.timeout  # lease left needed to start a transaction
        self._results: list[tuple[Prepared, Outcome]] = []
        self._has_results = asyncio.Event()
        self._closing = False
        self._checked = time.monotonic()
        self._leftover: list[int] = []
        self.report = DeliverReport()

    def _halted(self) -> bool:
        return self._stop.is_set() or self.report.unreachable is not None

    async def run(self) -> DeliverReport:
        started = time.monotonic()
        await self._t.open()
        recorder = asyncio.create_task(self._recorder())
        workers = [asyncio.create_task(self._worker(i)) for i in range(self._workers)]
        try:
            await self._produce()
        finally:
            if self._halted():  # make room for the sentinels: unstarted items go back
                self._leftover += [i.claim.id for i in self._drain()]
            for _ in workers:
                await self._queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            self._closing = True
            self._has_results.set()
            await recorder
            await asyncio.to_thread(self._release)
            await asyncio.to_thread(with_retries, self._complete_runs)
            await self._t.close()
        self.report.stopped = self._stop.is_set()
        self.report.seconds = round(time.monotonic() - started, 3)
        return self.report

    async def _produce(self) -> None:
        while not self._halted():
            lease_ends = time.monotonic() + self._s.delivery.lease_seconds
            claims = await asyncio.to_thread(self._claim)
            if not claims:
                return
            # Composed for what the server takes now: 8bit where it offers 8BITMIME.
            eightbit = await self._t.eightbit()
            batch = await asyncio.to_thread(self._prepare, claims, eightbit)
            for i, item in enumerate(batch):
                if self._halted():
                    self._leftover += [p.claim.id for p in batch[i:]]
                    return
                if item.skip is not None:
                    await self._add(item, SKIP)
                    continue
                if item.error is not None:
                    await self._add(item, Outcome("bounce" if item.final else "retry", None,
                                                  item.error))
                    continue
                if UNSAFE_MARK_SENT_FIRST:
                    await asyncio.to_thread(self._record, [(item, Outcome("sent", 0, "unsafe"))])
                self._queue.put_nowait((lease_ends, item))
            await self._until_low()

    def _low_water(self) -> int:
        """Claim again when this few are left: enough to keep the workers busy meanwhile."""
        return max(self._workers, self._batch // 2)

    async def _until_low(self) -> None:
        """Wait until the queue is down to its low-water mark (or the round halts)."""
        while self._queue.qsize() > self._low_water() and not self._halted():
            self._low.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._low.wait(), timeout=1.0)

    def _claim(self) -> list[Claimed]:
        return with_retries(self._claim_once)

    def _prepare(self, claims: list[Claimed], eightbit: bool) -> list[Prepared]:
        with self._engine.connect() as conn:
            return self._r.prepare(conn, claims, eightbit=eightbit)

    def _claim_once(self) -> list[Claimed]:
        now = utcnow()
        if self._engine.dialect.name == "sqlite":  # renew the one-sender lease while busy
            holder = take_sender_lease(self._engine, self._s.delivery.lease_seconds, now)
            if holder is not None:
                self.report.unreachable = f"the SQLite sender lease passed to {holder}"
                return []
        with self._engine.begin() as conn:
            claims = outbox.claim(conn, OWNER, now, self._batch, self._s.delivery.lease_seconds,
                                  self._round_started if self._retry_now else None)
            fresh = {c.id: message_id_for(c.id, c.run_id, self._r.host)
                     for c in claims if c.message_id is None}
            outbox.set_message_ids(conn, fresh)
        claims = [replace(c, message_id=c.message_id or fresh[c.id]) for c in claims]
        expired = [c for c in claims if c.attempts > self._s.delivery.max_attempts]
        if expired:  # a lease ran out after the last attempt (a crash): give up, say why
            self._record([(Prepared(c, "", c.message_id or ""), Outcome(
                "retry", None, "lease expired during the last attempt")) for c in expired])
            claims = [c for c in claims if c not in expired]
        if not claims:
            return [] if not expired else self._claim()
        return claims

    async def _worker(self, slot: int) -> None:
        while (entry := await self._queue.get()) is not None:
            if self._queue.qsize() <= self._low_water():
                self._low.set()
            lease_ends, item = entry
            if self._halted():
                self._leftover.append(item.claim.id)
                continue
            if time.monotonic() > lease_ends - self._margin:
                # Released now, while the lease still holds: nobody else can have it yet.
                await asyncio.to_thread(with_retries, lambda: self._give_back([item.claim.id]))
                self.report.lease_short += 1
                self._batch = max(1, self._batch // 2)
                continue
            started = time.monotonic()
            try:
                outcome = await pacing.within_grace(self._t.send(
                    slot, self._s.mail.from_address, item.email, item.data or b"", item.name),
                    self._stop)
            except Exception as exc:  # noqa: BLE001 - a dead worker would stall the round
                log.exception("delivery.send_crashed", delivery_id=item.claim.id)
                outcome = Outcome("retry", None, f"unexpected error while sending: {exc!r}"[:400])
            metrics.send_duration(time.monotonic() - started)
            if outcome.unreachable and self.report.unreachable is None:
                self.report.unreachable = outcome.reply
                log.warning("delivery.unreachable", reason=outcome.reply)
            await self._add(item, outcome)

    async def _add(self, item: Prepared, outcome: Outcome) -> None:
        self._results.append((item, outcome))
        self._has_results.set()

    async def _recorder(self) -> None:
        """Write results as soon as the previous write is done: the window in which a crash
        forgets a sent message is one short transaction, and senders never wait for it."""
        failures = 0
        while True:
            await self._has_results.wait()
            self._has_results.clear()
            batch, self._results = self._results, []
            try:
                if batch:
                    await asyncio.to_thread(with_retries, lambda: self._record(batch))
                failures = 0
            except sa.exc.DBAPIError as exc:
                # Cannot record: stop sending (each unrecorded message is a future duplicate).
                failures += 1
                reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
                log.error("delivery.record_failed", error=reason, attempt=failures)
                self.report.unreachable = self.report.unreachable or f"state database: {reason}"
                self._results[:0] = batch
                if failures >= 5 and self._closing:
                    raise
                await asyncio.sleep(min(2.0 ** failures, 10))
                self._has_results.set()
                continue
            if self._closing and not self._results:
                return

    def _record(self, batch: list[tuple[Prepared, Outcome]]) -> None:
        """One transaction for a batch of results; counted in the report once committed."""
        now = utcnow()
        sent: list[int] = []
        accepted: list[tuple[int, int | None, str]] = []
        tally: Counter[str] = Counter()
        results: list[tuple[str, int | None]] = []  # (kind, SMTP code) for the metrics
        with self._engine.begin() as conn:
            for item, outcome in batch:
                if UNSAFE_MARK_SENT_FIRST and outcome is not SKIP and outcome.reply != "unsafe":
                    continue
                if outcome.status == "sent":
                    accepted.append((item.claim.id, outcome.code, outcome.reply))
                    sent.append(item.claim.subscriber_id)
                    kind = "sent"
                else:
                    kind = self._record_unsent(conn, item, outcome, now)
                tally[kind] += 1
                results.append((kind, outcome.code))
            outbox.mark_sent(conn, accepted, now)
            outbox.reset_bounces(conn, sent)
            if time.monotonic() - self._checked > _COMPLETE_EVERY:
                # Checked now and then, and at the end of the round: it reads the whole run.
                self._checked = time.monotonic()
                tally["runs_completed"] += run_store.complete_finished(conn, now)
        for name, count in tally.items():
            setattr(self.report, name, getattr(self.report, name) + count)
        for kind, code in results:  # counted once committed, under the result it ended with
            metrics.delivery(_RESULT_LABEL.get(kind, kind), code)
        observe.sent(self._engine, [i.claim.content_id for i, o in batch
                                    if o is not SKIP and o.status == "sent"], now)

    def _complete_runs(self) -> None:
        with self._engine.begin() as conn:
            self.report.runs_completed += run_store.complete_finished(conn, utcnow())

    def _record_unsent(self, conn: sa.Connection, item: Prepared, o: Outcome,
                       now: datetime) -> str:
        """Record a result other than sent; returns the report counter it belongs to."""
        c = item.claim
        if o is SKIP:
            status, reply, next_at, kind = "skipped", item.skip or "", now, "skipped"
        elif o.status == "bounce":
            status, reply, next_at, kind = "failed", o.reply, now, "bounced"
            self._bounce(conn, c.subscriber_id, o, now)
        elif c.attempts >= self._s.delivery.max_attempts:
            status, reply, next_at, kind = "failed", o.reply, now, "failed"
        else:
            delays = self._s.delivery.retry_delays
            delay = delays[min(c.attempts, len(delays)) - 1]
            status, reply, next_at = "pending", o.reply, now + timedelta(seconds=delay)
            kind = "retried"
        outbox.mark_attempt(conn, c.id, OWNER, status, o.code, reply, next_at, now)
        return kind

    def _bounce(self, conn: sa.Connection, subscriber_id: int, o: Outcome, now: datetime) -> None:
        count = outbox.note_bounce(conn, subscriber_id)
        sub = subscriber_store.get(conn, subscriber_id)
        if count >= self._s.delivery.bounce_threshold and sub and sub.status == "active":
            subscriber_store.set_status(conn, subscriber_id, "bounced", event="bounced",
                                        source="delivery", now=now,
                                        detail={"code": o.code, "hard_bounces": count})
            log.info("delivery.subscriber_bounced", subscriber_id=subscriber_id, code=o.code)

    def _release(self) -> None:
        self._give_back(self._leftover + [i.claim.id for i in self._drain()])
        if self.report.lease_short:
            log.warning("delivery.lease_short", given_back=self.report.lease_short,
                        lease_seconds=self._s.delivery.lease_seconds,
                        hint="raise delivery.lease_seconds or smtp.connections")

    def _give_back(self, ids: list[int]) -> None:
        if ids:
            with self._engine.begin() as conn:
                outbox.release(conn, ids, OWNER, utcnow())
            self.report.released += len(ids)

    def _drain(self) -> list[Prepared]:
        out = []
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is not None:
                out.append(entry[1])
        return out
