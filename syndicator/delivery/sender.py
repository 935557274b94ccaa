"""One sending round: claim due deliveries, send them over the transport, record each result."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import structlog

from syndicator import metrics, observe
from syndicator.delivery.leases import OWNER, take_sender_lease
from syndicator.delivery.render import Prepared, Renderer, message_id_for
from syndicator.delivery.transport import Outcome, Transport
from syndicator.settings import Settings
from syndicator.state import outbox
from syndicator.state import runs as run_store
from syndicator.state import subscribers as subscriber_store

log = structlog.get_logger(__name__)

# Test-only: marks a delivery sent *before* sending it, the wrong order. The kill test runs
# with it to prove that it would notice lost mail. Never set outside tests.
UNSAFE_MARK_SENT_FIRST = False

_FLUSH_COUNT = 16
_FLUSH_SECONDS = 0.5
SKIP = Outcome("retry", None, "")  # placeholder outcome for skipped deliveries


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class DeliverReport:
    """What one round did; `unreachable` names why it stopped early, if it did."""

    sent: int = 0
    retried: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    stopped: bool = False
    unreachable: str | None = None
    runs_completed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


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
        self._workers = settings.smtp.connections if settings.mail.transport == "smtp" else 1
        self._batch = max(32, self._workers * 8)
        self._queue: asyncio.Queue[Prepared | None] = asyncio.Queue(maxsize=self._batch)
        self._results: list[tuple[Prepared, Outcome]] = []
        self._oldest = 0.0
        self._lock = asyncio.Lock()
        self._leftover: list[int] = []
        self.report = DeliverReport()

    def _halted(self) -> bool:
        return self._stop.is_set() or self.report.unreachable is not None

    async def run(self) -> DeliverReport:
        started = time.monotonic()
        await self._t.open()
        workers = [asyncio.create_task(self._worker(i)) for i in range(self._workers)]
        try:
            await self._produce()
        finally:
            for _ in workers:
                await self._queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            await self._flush()
            await asyncio.to_thread(self._release)
            await self._t.close()
        self.report.stopped = self._stop.is_set()
        self.report.seconds = round(time.monotonic() - started, 3)
        return self.report

    async def _produce(self) -> None:
        while not self._halted():
            batch = await asyncio.to_thread(self._claim)
            if not batch:
                return
            for i, item in enumerate(batch):
                if self._halted():
                    self._leftover += [p.claim.id for p in batch[i:]]
                    return
                if item.skip is not None:
                    await self._add(item, SKIP)
                    continue
                if UNSAFE_MARK_SENT_FIRST:
                    await asyncio.to_thread(self._record, [(item, Outcome("sent", 0, "unsafe"))])
                await self._queue.put(item)

    def _claim(self) -> list[Prepared]:
        now = utcnow()
        if self._engine.dialect.name == "sqlite":  # renew the one-sender lease while busy
            take_sender_lease(self._engine, self._s.delivery.lease_seconds, now)
        with self._engine.begin() as conn:
            claims = outbox.claim(conn, OWNER, now, self._batch, self._s.delivery.lease_seconds,
                                  self._retry_now)
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
        with self._engine.connect() as conn:
            return self._r.prepare(conn, claims)

    async def _worker(self, slot: int) -> None:
        while (item := await self._queue.get()) is not None:
            if self._halted():
                self._leftover.append(item.claim.id)
                continue
            started = time.monotonic()
            outcome = await self._t.send(slot, self._s.mail.from_address, item.email,
                                         item.data or b"", item.name)
            metrics.send_duration(time.monotonic() - started)
            if outcome.unreachable and self.report.unreachable is None:
                self.report.unreachable = outcome.reply
                log.warning("delivery.unreachable", reason=outcome.reply)
            await self._add(item, outcome)

    async def _add(self, item: Prepared, outcome: Outcome) -> None:
        metrics.delivery("skipped" if outcome is SKIP else outcome.status, outcome.code)
        if not self._results:
            self._oldest = time.monotonic()
        self._results.append((item, outcome))
        if (len(self._results) >= _FLUSH_COUNT or self._queue.empty()
                or time.monotonic() - self._oldest > _FLUSH_SECONDS):
            await self._flush()

    async def _flush(self) -> None:
        async with self._lock:
            batch, self._results = self._results, []
            if batch:
                await asyncio.to_thread(self._record, batch)

    def _record(self, batch: list[tuple[Prepared, Outcome]]) -> None:
        now = utcnow()
        sent: list[int] = []
        with self._engine.begin() as conn:
            for item, outcome in batch:
                if UNSAFE_MARK_SENT_FIRST and outcome is not SKIP and outcome.reply != "unsafe":
                    continue
                if outcome.status == "sent":
                    outbox.mark_sent(conn, item.claim.id, outcome.code, outcome.reply, now)
                    sent.append(item.claim.subscriber_id)
                    self.report.sent += 1
                else:
                    self._record_unsent(conn, item, outcome, now)
            outbox.reset_bounces(conn, sent)
            observe.sent(conn, [i.claim.content_id for i, o in batch
                                if o is not SKIP and o.status == "sent"], now)
            self.report.runs_completed += run_store.complete_finished(conn, now)

    def _record_unsent(self, conn: sa.Connection, item: Prepared, o: Outcome,
                       now: datetime) -> None:
        c = item.claim
        if o is SKIP:
            status, reply, next_at = "skipped", item.skip or "", now
            self.report.skipped += 1
        elif o.status == "bounce":
            status, reply, next_at = "failed", o.reply, now
            self.report.bounced += 1
            self._bounce(conn, c.subscriber_id, o, now)
        elif c.attempts >= self._s.delivery.max_attempts:
            status, reply, next_at = "failed", o.reply, now
            self.report.failed += 1
        else:
            delays = self._s.delivery.retry_delays
            delay = delays[min(c.attempts, len(delays)) - 1]
            status, reply, next_at = "pending", o.reply, now + timedelta(seconds=delay)
            self.report.retried += 1
        outbox.mark_attempt(conn, c.id, OWNER, status, o.code, reply, next_at, now)

    def _bounce(self, conn: sa.Connection, subscriber_id: int, o: Outcome, now: datetime) -> None:
        count = outbox.note_bounce(conn, subscriber_id)
        sub = subscriber_store.get(conn, subscriber_id)
        if count >= self._s.delivery.bounce_threshold and sub and sub.status == "active":
            subscriber_store.set_status(conn, subscriber_id, "bounced", event="bounced",
                                        source="delivery", now=now,
                                        detail={"code": o.code, "hard_bounces": count})
            log.info("delivery.subscriber_bounced", subscriber_id=subscriber_id, code=o.code)

    def _release(self) -> None:
        ids = self._leftover + [i.claim.id for i in self._drain()]
        if ids:
            with self._engine.begin() as conn:
                outbox.release(conn, ids, OWNER, utcnow())
            self.report.released += len(ids)

    def _drain(self) -> list[Prepared]:
        out = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                out.append(item)
        return out
