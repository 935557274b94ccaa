"""What the end of a delivery means for its subscriber: hard bounces, page mails that failed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import structlog

from syndicator.state import subscribers as store

log = structlog.get_logger(__name__)


def hard_bounce(conn: sa.Connection, subscriber_id: int, code: int | None, threshold: int,
                now: datetime) -> bool:
    """Count a consecutive hard bounce (a 5xx, now or reported later); at `threshold` an active
    subscriber becomes `bounced`, recorded in the consent history. True when it did."""
    count = store.note_bounce(conn, subscriber_id)
    sub = store.get(conn, subscriber_id)
    if count < threshold or sub is None or sub.status != "active":
        return False
    store.set_status(conn, subscriber_id, "bounced", event="bounced", source="delivery",
                     now=now, detail={"code": code, "hard_bounces": count})
    log.info("delivery.subscriber_bounced", subscriber_id=subscriber_id, code=code)
    return True


def page_mail_failed(conn: sa.Connection, subscriber_id: int, kind: str, reason: str,
                     now: datetime) -> None:
    """A confirmation or manage-link mail could not be delivered: the address may ask again
    at once (a failed mail does not count against the one-mail-per-interval limit)."""
    store.record(conn, subscriber_id, f"{kind}_failed", "delivery", now,
                 {"reason": reason[:300]})
    log.warning("delivery.page_mail_failed", subscriber_id=subscriber_id, kind=kind)
