"""Prepared messages waiting for a send worker, each with the moment its lease runs out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from syndicator.delivery.prepare import Prepared

Entry = tuple[float, Prepared]  # (monotonic time the claim's lease ends, the message)


class SendQueue:
    """A FIFO the producer refills when it is down to `low_water` (enough to keep the workers
    busy meanwhile); None entries tell a worker to stop."""

    def __init__(self, low_water: int) -> None:
        self.low_water = low_water
        self._queue: asyncio.Queue[Entry | None] = asyncio.Queue()
        self._low = asyncio.Event()

    def put(self, item: Prepared, lease_ends: float) -> None:
        self._queue.put_nowait((lease_ends, item))

    async def get(self) -> Entry | None:
        entry = await self._queue.get()
        if self._queue.qsize() <= self.low_water:
            self._low.set()
        return entry

    async def until_low(self, halted: Callable[[], bool]) -> None:
        """Wait until the queue is down to its low-water mark (or the round halts)."""
        while self._queue.qsize() > self.low_water and not halted():
            self._low.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._low.wait(), timeout=1.0)

    async def stop_workers(self, workers: int) -> None:
        for _ in range(workers):
            await self._queue.put(None)

    def drain(self) -> list[Prepared]:
        """Take every message not yet started (to give back its claim)."""
        out = []
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is not None:
                out.append(entry[1])
        return out
