"""Returned mail in the state database: one record per message, and late bounces on deliveries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from syndicator.models.subscriber import email_key
from syndicator.state.rows import inserted_id
from syndicator.state.schema import deliveries, returned_messages, subscribers

_r = returned_messages.c
_d = deliveries.c
_LISTED = (_r.id, _r.received_at, _r.kind, _r.reason, _r.effect, _r.tied_by, _r.delivery_id,
           _r.subscriber_id, _r.size, _r.detail, _r.forwarded_at)


@dataclass(frozen=True)
class DeliveryFacts:
    """What tying a report to a delivery needs to know of it."""

    id: int
    subscriber_id: int | None  # None: mail to a configured address (a canary's copy)
    email: str
    status: str
    last_code: int | None
    late_bounce_at: datetime | None

    @property
    def refused_when_sent(self) -> bool:
        """A 5xx at sending time: that bounce was counted then."""
        return self.status == "failed" and (self.last_code or 0) >= 500


def insert(conn: sa.Connection, key: str, kind: str, reason: str, size: int,
           now: datetime) -> int:
    """The record of one message, first in its transaction: a second reader of the same
    message waits here for the first to commit, then fails on the unique key."""
    return inserted_id(conn.execute(returned_messages.insert().values(
        message_key=key, kind=kind, reason=reason, effect="pending", size=size,
        received_at=now, detail={})))


def finish(conn: sa.Connection, record_id: int, *, effect: str, tied_by: str | None,
           delivery_id: int | None, subscriber_id: int | None, detail: dict[str, Any],
           raw: bytes | None) -> None:
    conn.execute(returned_messages.update().where(_r.id == record_id).values(
        effect=effect, tied_by=tied_by, delivery_id=delivery_id, subscriber_id=subscriber_id,
        detail=detail, raw=raw))


def recorded(conn: sa.Connection, key: str) -> bool:
    return conn.scalar(sa.select(_r.id).where(_r.message_key == key)) is not None


def _facts(conn: sa.Connection, where: sa.ColumnElement[bool]) -> DeliveryFacts | None:
    row = conn.execute(
        sa.select(_d.id, _d.subscriber_id, sa.func.coalesce(subscribers.c.email, _d.address),
                  _d.status, _d.last_code, _d.late_bounce_at)
        .outerjoin(subscribers, subscribers.c.id == _d.subscriber_id).where(where)
        .order_by(_d.id.desc()).limit(1)).first()
    return DeliveryFacts(*row) if row else None


def delivery(conn: sa.Connection, delivery_id: int) -> DeliveryFacts | None:
    return _facts(conn, _d.id == delivery_id)


def delivery_by_message_id(conn: sa.Connection, message_id: str) -> DeliveryFacts | None:
    return _facts(conn, _d.message_id == message_id[:255])


def latest_sent(conn: sa.Connection, subscriber_id: int) -> DeliveryFacts | None:
    """The subscriber's newest delivery a server accepted: what an untagged report is about."""
    return _facts(conn, sa.and_(_d.subscriber_id == subscriber_id, _d.status == "sent"))


def subscriber_by_address(conn: sa.Connection, addresses: Iterable[str]) -> int | None:
    """The first of these addresses that is a subscriber's (case-insensitive)."""
    for address in addresses:
        found = conn.scalar(sa.select(subscribers.c.id)
                            .where(subscribers.c.email_key == email_key(address)))
        if found is not None:
            return int(found)
    return None


def mark_late_bounce(conn: sa.Connection, delivery_id: int, *, status: str | None,
                     code: int | None, detail: str | None, now: datetime) -> bool:
    """Record a late hard bounce on a delivery the server accepted, once: False when it was
    refused at sending time, or already has one (the same bounce counts once)."""
    done = conn.execute(deliveries.update().where(
        _d.id == delivery_id, _d.status == "sent", _d.late_bounce_at.is_(None)).values(
        late_bounce_at=now, late_bounce_status=status, late_bounce_code=code,
        late_bounce_detail=(detail or "")[:500] or None))
    return done.rowcount == 1


def bounce_streak(conn: sa.Connection, subscriber_id: int, limit: int) -> int:
    """How many of the subscriber's newest finished deliveries bounced in a row (at sending
    time or later, by mail), counted up to `limit`; a delivery that failed otherwise (out of
    attempts) neither counts nor breaks the run."""
    rows = conn.execute(
        sa.select(_d.status, _d.last_code, _d.late_bounce_at)
        .where(_d.subscriber_id == subscriber_id, _d.status.in_(("sent", "failed")))
        .order_by(_d.id.desc()).limit(limit * 4)
        # A locking read sees what other transactions committed since this one began
        # (MariaDB's repeatable read would show its first snapshot).
        .with_for_update(read=True))
    streak = 0
    for status, code, late in rows:
        if late is not None or (status == "failed" and (code or 0) >= 500):
            streak += 1
            if streak >= limit:
                break
        elif status == "sent":
            break
    return streak


def listing(conn: sa.Connection, kind: str | None, limit: int) -> list[dict[str, Any]]:
    """Records newest first, without their bytes."""
    query = sa.select(*_LISTED).order_by(_r.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(_r.kind == kind)
    return [dict(row._mapping) for row in conn.execute(query)]


def kept_bytes(conn: sa.Connection, record_id: int) -> tuple[bool, bytes | None]:
    """(whether the record exists, the bytes kept of it)."""
    row = conn.execute(sa.select(_r.raw).where(_r.id == record_id)).first()
    return (row is not None, row[0] if row else None)


def counts_by_kind(conn: sa.Connection, since: datetime) -> dict[str, int]:
    """Records received since then, by kind."""
    rows = conn.execute(sa.select(_r.kind, sa.func.count()).where(_r.received_at >= since)
                        .group_by(_r.kind))
    return {kind: int(count) for kind, count in rows}


# --- forwarding unknown messages to mail.reply_to ------------------------------------------

def forwards_due(conn: sa.Connection, now: datetime, retry_after: timedelta,
                 max_attempts: int, limit: int) -> list[int]:
    return list(conn.scalars(sa.select(_r.id).where(_forward_due(now, retry_after, max_attempts))
                             .order_by(_r.id).limit(limit)))


@dataclass(frozen=True)
class Kept:
    """A kept message, as forwarding it needs it."""

    id: int
    raw: bytes
    size: int
    detail: dict[str, Any]
    received_at: datetime
    attempts: int  # including the one just claimed


def claim_forward(conn: sa.Connection, record_id: int, now: datetime, retry_after: timedelta,
                  max_attempts: int) -> Kept | None:
    """Take one forward attempt (a conditional update: one taker however many processes);
    None when it is not due or another process took it."""
    taken = conn.execute(returned_messages.update().where(
        _r.id == record_id, _forward_due(now, retry_after, max_attempts)).values(
        forward_attempts=_r.forward_attempts + 1, forward_claimed_at=now))
    if taken.rowcount != 1:
        return None
    row = conn.execute(sa.select(_r.raw, _r.size, _r.detail, _r.received_at,
                                 _r.forward_attempts).where(_r.id == record_id)).one()
    return Kept(record_id, row.raw or b"", row.size, dict(row.detail or {}), row.received_at,
                row.forward_attempts)


def mark_forwarded(conn: sa.Connection, record_id: int, now: datetime) -> None:
    conn.execute(returned_messages.update().where(_r.id == record_id).values(forwarded_at=now))


def forwards_pending(conn: sa.Connection) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).where(
        _r.effect == "forward", _r.forwarded_at.is_(None))) or 0)


def _forward_due(now: datetime, retry_after: timedelta,
                 max_attempts: int) -> sa.ColumnElement[bool]:
    return sa.and_(_r.effect == "forward", _r.forwarded_at.is_(None),
                   _r.forward_attempts < max_attempts,
                   sa.or_(_r.forward_claimed_at.is_(None),
                          _r.forward_claimed_at < now - retry_after))


def purge_older_than(conn: sa.Connection, cutoff: datetime) -> int:
    return conn.execute(returned_messages.delete().where(_r.received_at < cutoff)).rowcount
