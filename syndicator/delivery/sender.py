"""One sending round: a producer claims, `connections` workers send, a recorder writes results."""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from syndicator.config.settings import Settings
from syndicator.delivery import pacing
from syndicator.delivery.claimer import Claimer
from syndicator.delivery.prepare import Prepared, Preparer
from syndicator.delivery.queue import SendQueue
from syndicator.delivery.recorder import SKIP, Recorder
from syndicator.delivery.report import DeliverReport
from syndicator.delivery.transport import Outcome, Transport
from syndicator.state.conflicts import with_retries
from syndicator.telemetry import metrics

log = structlog.get_logger(__name__)


class Sender:
    """Claims wait in the queue under a lease. Each entry carries the monotonic time its lease
    runs out (taken before the claim, so never later than the database's); a worker gives back
    a claim with too little lease left instead of sending it (another sender may take it any
    moment), and the producer claims only when the queue is down to half a batch, halving its
    batch after a give-back: the look-ahead follows the send rate."""

    def __init__(self, settings: Settings, engine: sa.Engine, transport: Transport,
                 preparer: Preparer, stop: asyncio.Event, retry_now: bool = False) -> None:
        self._settings = settings
        self._transport = transport
        self._stop = stop
        self.report = DeliverReport()
        self._workers = settings.smtp.connections if settings.mail.transport == "smtp" else 1
        batch = pacing.batch_size(settings, self._workers)
        self._recorder = Recorder(settings, engine, self.report)
        self._claimer = Claimer(settings, engine, preparer, self._recorder, self.report, batch,
                                datetime.now(UTC) if retry_now else None)
        self._queue = SendQueue(low_water=max(self._workers, batch // 2))
        self._margin = 2 * settings.smtp.timeout  # lease left needed to start a transaction
        self._leftover: list[int] = []  # claims never started: given back at the end

    def _halted(self) -> bool:
        return self._stop.is_set() or self.report.unreachable is not None

    async def run(self) -> DeliverReport:
        started = time.monotonic()
        await self._transport.open()
        recording = asyncio.create_task(self._recorder.run())
        workers = [asyncio.create_task(self._worker(i)) for i in range(self._workers)]
        try:
            await self._produce()
        finally:
            if self._halted():  # make room for the sentinels: unstarted items go back
                self._leftover += [i.claim.id for i in self._queue.drain()]
            await self._queue.stop_workers(len(workers))
            await asyncio.gather(*workers, return_exceptions=True)
            self._recorder.close()
            await recording
            await asyncio.to_thread(self._give_back_leftover)
            await asyncio.to_thread(with_retries, self._recorder.complete_runs)
            await self._transport.close()
        self.report.stopped = self._stop.is_set()
        self.report.seconds = round(time.monotonic() - started, 3)
        return self.report

    async def _produce(self) -> None:
        while not self._halted():
            lease_ends = time.monotonic() + self._settings.delivery.lease_seconds
            claims = await asyncio.to_thread(self._claimer.claim)
            if not claims:
                return
            # Composed for what the server takes now: 8bit where it offers 8BITMIME.
            eightbit = await self._transport.eightbit()
            batch = await asyncio.to_thread(self._claimer.prepare, claims, eightbit)
            for i, item in enumerate(batch):
                if self._halted():
                    self._leftover += [p.claim.id for p in batch[i:]]
                    return
                if item.skip is not None:
                    self._recorder.add(item, SKIP)
                elif item.error is not None:
                    self._recorder.add(item, Outcome("bounce" if item.final else "retry", None,
                                                     item.error))
                else:
                    await self._enqueue(item, lease_ends)
            await self._queue.until_low(self._halted)

    async def _enqueue(self, item: Prepared, lease_ends: float) -> None:
        """Hand a prepared message to the workers (tests replace this to break the order)."""
        self._queue.put(item, lease_ends)

    async def _worker(self, slot: int) -> None:
        while (entry := await self._queue.get()) is not None:
            lease_ends, item = entry
            if self._halted():
                self._leftover.append(item.claim.id)
                continue
            if time.monotonic() > lease_ends - self._margin:
                # Released now, while the lease still holds: nobody else can have it yet.
                await asyncio.to_thread(with_retries, functools.partial(
                    self._claimer.give_back, [item.claim.id]))
                self.report.lease_short += 1
                self._claimer.batch = max(1, self._claimer.batch // 2)
                continue
            self._recorder.add(item, await self._send(slot, item))

    async def _send(self, slot: int, item: Prepared) -> Outcome:
        started = time.monotonic()
        try:
            outcome = await pacing.within_grace(self._transport.send(
                slot, item.sender or self._settings.mail.from_address, item.email,
                item.data or b"", item.name), self._stop)
        except Exception as exc:  # noqa: BLE001 - a dead worker would stall the round
            log.exception("delivery.send_crashed", delivery_id=item.claim.id)
            outcome = Outcome("retry", None, f"unexpected error while sending: {exc!r}"[:400])
        metrics.send_duration(time.monotonic() - started)
        if outcome.unreachable and self.report.unreachable is None:
            self.report.unreachable = outcome.reply
            log.warning("delivery.unreachable", reason=outcome.reply)
        return outcome

    def _give_back_leftover(self) -> None:
        self._claimer.give_back(self._leftover + [i.claim.id for i in self._queue.drain()])
        if self.report.lease_short:
            log.warning("delivery.lease_short", given_back=self.report.lease_short,
                        lease_seconds=self._settings.delivery.lease_seconds,
                        hint="raise delivery.lease_seconds or smtp.connections")
