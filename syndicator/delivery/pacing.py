"""How far ahead a round claims, and how long a transaction in flight may run after stop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import structlog

from syndicator.config.settings import Settings
from syndicator.delivery.transport import Outcome

log = structlog.get_logger(__name__)

STOP_GRACE = 7.0  # seconds an SMTP transaction may still take after stop (exit within 10 s)


def batch_size(settings: Settings, workers: int) -> int:
    """Claims per batch; under a rate limit, no more than half a lease can send."""
    size = max(32, workers * 8)
    rate = settings.smtp.rate_per_second if settings.mail.transport == "smtp" else 0
    if rate > 0:
        size = min(size, max(1, int(rate * settings.delivery.lease_seconds / 2)))
    return size


async def within_grace(sending: Awaitable[Outcome], stop: asyncio.Event) -> Outcome:
    """The send's outcome; once stop is set it gets STOP_GRACE seconds more, then is cut
    (a retry: the server may have the message, the only duplicate a stop can cause)."""
    send = asyncio.ensure_future(sending)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({send, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if send.done():
        return send.result()
    try:
        return await asyncio.wait_for(send, STOP_GRACE)
    except TimeoutError:
        log.warning("delivery.send_interrupted", grace_seconds=STOP_GRACE)
        return Outcome("retry", None, "interrupted by shutdown during the SMTP transaction")
