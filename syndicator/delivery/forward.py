"""Returned messages nobody's rule understood, forwarded to `mail.reply_to` with the original
attached: each claimed by one process, sent with a null envelope sender, retried later."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
import structlog

from syndicator.compose.forward import KeptMessage, forward
from syndicator.config.settings import Settings
from syndicator.delivery.dkim import make_signer
from syndicator.delivery.transport import Transport, make_transport
from syndicator.models.address import ascii_address
from syndicator.state import returned
from syndicator.state.returned import Kept

log = structlog.get_logger(__name__)
RETRY_AFTER = timedelta(minutes=10)  # a failed forward is tried again after this
MAX_ATTEMPTS = 6  # then it stays kept (`syndicator bounces list`) and is not tried again
BATCH = 50


def forward_due(settings: Settings, engine: sa.Engine,
                record_ids: Sequence[int] | None = None) -> int:
    """Forward these records (or every one due); how many went out. Blocking: it runs its
    own event loop, so call it from a thread when a loop is running."""
    if settings.mail.reply_to is None:
        return 0
    now = datetime.now(UTC)
    if record_ids is None:
        with engine.connect() as conn:
            record_ids = returned.forwards_due(conn, now, RETRY_AFTER, MAX_ATTEMPTS, BATCH)
    if not record_ids:
        return 0
    return asyncio.run(_forward(settings, engine, list(record_ids)))


async def _forward(settings: Settings, engine: sa.Engine, ids: list[int]) -> int:
    transport = make_transport(settings.mail, settings.smtp,
                               stamp_sender=settings.bounces.return_path is not None)
    await transport.open()
    sent = 0
    try:
        for record_id in ids:
            with engine.begin() as conn:
                kept = returned.claim_forward(conn, record_id, datetime.now(UTC),
                                              RETRY_AFTER, MAX_ATTEMPTS)
            if kept is not None:
                sent += await _send(settings, engine, transport, kept)
    finally:
        await transport.close()
    return sent


async def _send(settings: Settings, engine: sa.Engine, transport: Transport,
                kept: Kept) -> bool:
    host = urlsplit(settings.base_url).hostname or "localhost"
    data = forward(settings, KeptMessage(
        record_id=kept.id, raw=kept.raw, size=kept.size,
        subject=str(kept.detail.get("subject", "")), sender=str(kept.detail.get("from", "")),
        received=kept.received_at), message_id=f"<returned{kept.id}.forward@{host}>",
        date=datetime.now(UTC))
    signer = make_signer(settings.mail)
    if signer is not None:
        data = signer.sign(data)
    # A null envelope sender (RFC 5321 4.5.5): whatever happens to it, nothing comes back here.
    outcome = await transport.send(0, "", ascii_address(settings.mail.reply_to or ""), data,
                                   f"returned-{kept.id}")
    if outcome.status != "sent":
        log.warning("bounces.forward_failed", record_id=kept.id, attempt=kept.attempts,
                    final=kept.attempts >= MAX_ATTEMPTS, reply=outcome.reply[:200])
        return False
    with engine.begin() as conn:
        returned.mark_forwarded(conn, kept.id, datetime.now(UTC))
    log.info("bounces.forwarded", record_id=kept.id)
    return True
