"""What the end of a delivery means for its subscriber: hard bounces (at sending time or
reported later by mail), complaints and mailed unsubscribe requests, page mails that failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog

from syndicator.state import returned
from syndicator.state import subscribers as store

log = structlog.get_logger(__name__)


def hard_bounce(conn: sa.Connection, subscriber_id: int, code: int | None, threshold: int,
                now: datetime) -> bool:
    """Count a consecutive hard bounce (a 5xx at sending time); at `threshold` an active
    subscriber becomes `bounced`, recorded in the consent history. True when it did."""
    count = store.note_bounce(conn, subscriber_id)
    return _suspend(conn, subscriber_id, count, threshold, now, "delivery", {"code": code})


def late_bounce(conn: sa.Connection, subscriber_id: int, threshold: int, now: datetime,
                detail: dict[str, Any]) -> bool:
    """A hard bounce a relay reported by mail after it accepted the delivery (already marked
    on it). The relay answered 250 to every delivery, which reset the counter each time: the
    consecutive count is read again from the deliveries themselves, in order, whatever order
    the reports came in (docs/adr/011). True when the subscriber became `bounced`."""
    # Two reports at once: the second waits here, then reads the first one's mark.
    status = store.lock(conn, subscriber_id)
    count = returned.bounce_streak(conn, subscriber_id, threshold)
    store.set_bounces(conn, subscriber_id, count)
    return _suspend(conn, subscriber_id, count, threshold, now, "returned-mail", detail, status)


def _suspend(conn: sa.Connection, subscriber_id: int, count: int, threshold: int,
             now: datetime, source: str, detail: dict[str, Any],
             status: str | None = None) -> bool:
    if status is None:
        sub = store.get(conn, subscriber_id)
        status = sub.status if sub else None
    if count < threshold or status != "active":
        return False
    store.set_status(conn, subscriber_id, "bounced", event="bounced", source=source,
                     now=now, detail=detail | {"hard_bounces": count})
    log.info("delivery.subscriber_bounced", subscriber_id=subscriber_id,
             code=detail.get("code"), source=source)
    return True


def unsubscribe(conn: sa.Connection, subscriber_id: int, *, source: str, now: datetime,
                detail: dict[str, Any]) -> bool:
    """A complaint or a mailed request ends the subscription, recorded as `unsubscribed` with
    why (`source`: complaint | mailto); False when it had already ended."""
    if store.lock(conn, subscriber_id) in (None, "unsubscribed"):
        return False
    store.set_status(conn, subscriber_id, "unsubscribed", event="unsubscribed", source=source,
                     now=now, detail=detail)
    log.info("subscriber.unsubscribed_by_mail", subscriber_id=subscriber_id, source=source)
    return True


def page_mail_failed(conn: sa.Connection, subscriber_id: int, kind: str, reason: str,
                     now: datetime) -> None:
    """A confirmation or manage-link mail could not be delivered: the address may ask again
    at once (a failed mail does not count against the one-mail-per-interval limit)."""
    store.record(conn, subscriber_id, f"{kind}_failed", "delivery", now,
                 {"reason": reason[:300]})
    log.warning("delivery.page_mail_failed", subscriber_id=subscriber_id, kind=kind)
