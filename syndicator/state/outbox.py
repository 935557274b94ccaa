"""The deliveries outbox: leased claims by conditional update, and the result of each attempt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from syndicator.state.rows import inserted_id
from syndicator.state.schema import deliveries, digest_contents, digest_runs, subscribers

FINAL = ("sent", "failed", "skipped")
_LOCKING = ("postgresql", "mysql", "mariadb")


# Kinds of mail: a digest of a run, or a mail the pages owe a person (sent first); a run's
# copy to a canary address, the operator's alert about a late run (to configured addresses).
DIGEST = "digest"
PAGE_MAILS = ("confirmation", "manage_link")
CANARY = "canary"
RUN_OVERDUE = "run_overdue"
CORRECTION = "correction"  # "Đính chính:" / "Thu hồi:" to those who got a bulletin
PRIORITY_PERSON_WAITS = 0
PRIORITY_OPERATOR = 1  # an alert: ahead of every digest, behind a person at a form
PRIORITY_CORRECTION = 3  # a correction or withdrawal: ahead of digests (docs/adr/018)
PRIORITY_CANARY = 4  # a run's canary copies go before its other deliveries (ADR 014)
PRIORITY_DIGEST = 5


@dataclass(frozen=True)
class Claimed:
    """A delivery this process holds under a lease."""

    id: int
    run_id: int | None  # None: not a digest
    subscriber_id: int | None  # None: mail to a configured `address`
    content_id: int | None  # the digest's content; None: not a digest
    attempts: int  # including the attempt being made now
    message_id: str | None
    kind: str = DIGEST
    payload: dict[str, Any] | None = None
    address: str | None = None  # a canary or the operator, when there is no subscriber


def enqueue(conn: sa.Connection, kind: str, subscriber_id: int, now: datetime,
            payload: dict[str, Any] | None = None,
            priority: int = PRIORITY_PERSON_WAITS) -> int:
    """One mail that is not a digest, due now; its delivery id."""
    return inserted_id(conn.execute(deliveries.insert().values(
        kind=kind, subscriber_id=subscriber_id, payload=payload, priority=priority,
        status="pending", attempts=0, next_attempt_at=now, created_at=now, updated_at=now)))


def enqueue_many(conn: sa.Connection, kind: str, payloads: Mapping[int, dict[str, Any]],
                 now: datetime, priority: int) -> dict[int, int]:
    """One mail of `kind` per subscriber id (with its payload), due now: subscriber -> its
    delivery id. One statement per chunk (INSERT ... RETURNING, in parameter order)."""
    out: dict[int, int] = {}
    ids = sorted(payloads)
    for start in range(0, len(ids), 500):
        rows = [{"kind": kind, "subscriber_id": s, "payload": payloads[s], "priority": priority,
                 "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
                 "updated_at": now} for s in ids[start:start + 500]]
        made = conn.execute(deliveries.insert().returning(
            deliveries.c.id, deliveries.c.subscriber_id, sort_by_parameter_order=True), rows)
        out |= {int(r.subscriber_id): int(r.id) for r in made}
    return out


def enqueue_to(conn: sa.Connection, kind: str, address: str, now: datetime,
               payload: dict[str, Any] | None = None, priority: int = PRIORITY_OPERATOR) -> int:
    """One mail to a configured address (no subscriber), due now; its delivery id."""
    return inserted_id(conn.execute(deliveries.insert().values(
        kind=kind, address=address, payload=payload, priority=priority, status="pending",
        attempts=0, next_attempt_at=now, created_at=now, updated_at=now)))


def due(now: datetime, retry_now: datetime | bool | None = None) -> sa.ColumnElement[bool]:
    """Deliveries a sender may claim now (also counted by the daemon before waking one).

    `retry_now` is the start of a `--retry-now` round: pending deliveries still in backoff
    are due too, each once per round (not in a tight loop). False or None: normal backoff.
    """
    pending = deliveries.c.status == "pending"
    on_time = deliveries.c.next_attempt_at <= now
    if isinstance(retry_now, datetime):
        on_time = sa.or_(on_time, deliveries.c.updated_at < retry_now)
    pending = sa.and_(pending, on_time)
    expired = sa.and_(deliveries.c.status == "sending", deliveries.c.lease_until < now)
    return sa.or_(pending, expired)


def claim(conn: sa.Connection, token: str, now: datetime, limit: int, lease_seconds: int,
          retry_now: datetime | None = None) -> list[Claimed]:
    """Take up to `limit` due deliveries; rows another replica has locked are skipped."""
    due_now = due(now, retry_now)
    pick = (sa.select(deliveries.c.id).where(due_now)
            .order_by(deliveries.c.priority, deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit))
    if conn.dialect.name in _LOCKING:
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.scalars(pick))
    if not ids:
        return []
    # The WHERE repeats `due`: on SQLite (no row locks) a row taken meanwhile is not taken twice.
    conn.execute(deliveries.update().where(deliveries.c.id.in_(ids), due_now).values(
        status="sending", lease_owner=token, lease_until=now + timedelta(seconds=lease_seconds),
        attempts=deliveries.c.attempts + 1, updated_at=now))
    rows = conn.execute(sa.select(deliveries.c.id, deliveries.c.run_id,
                                  deliveries.c.subscriber_id, deliveries.c.content_id,
                                  deliveries.c.attempts, deliveries.c.message_id,
                                  deliveries.c.kind, deliveries.c.payload,
                                  deliveries.c.address)
                        .where(deliveries.c.id.in_(ids), deliveries.c.lease_owner == token,
                               deliveries.c.status == "sending")
                        .order_by(deliveries.c.priority, deliveries.c.id))
    return [Claimed(*r) for r in rows]


def set_message_ids(conn: sa.Connection, values: dict[int, str]) -> None:
    """Fix each Message-ID at its first claim; later attempts reuse the stored one."""
    if values:
        conn.execute(deliveries.update().where(deliveries.c.id == sa.bindparam("d_id"),
                                               deliveries.c.message_id.is_(None))
                     .values(message_id=sa.bindparam("mid")),
                     [{"d_id": k, "mid": v} for k, v in values.items()])


def mark_sent(conn: sa.Connection, results: Sequence[tuple[int, int | None, str]],
              now: datetime) -> None:
    """(delivery id, code, reply) of accepted messages, in one executemany."""
    if not results:
        return
    # Not conditional on our lease: the server has the message, whoever holds the row now.
    open_ = sa.or_(deliveries.c.status == "pending", deliveries.c.status == "sending")
    conn.execute(deliveries.update().where(deliveries.c.id == sa.bindparam("d_id"), open_)
                 .values(status="sent", sent_at=now, last_code=sa.bindparam("code"),
                         last_reply=sa.bindparam("reply"), lease_owner=None, lease_until=None,
                         updated_at=now),
                 [{"d_id": i, "code": c, "reply": r[:500]} for i, c, r in results])


def mark_attempt(conn: sa.Connection, delivery_id: int, token: str, status: str,
                 code: int | None, reply: str, next_at: datetime, now: datetime) -> bool:
    """A failed or skipped attempt: pending again (retry) or final; only while our lease holds."""
    done = conn.execute(deliveries.update().where(deliveries.c.id == delivery_id,
                                                  deliveries.c.lease_owner == token,
                                                  deliveries.c.status == "sending")
                        .values(status=status, last_code=code, last_reply=reply[:500],
                                next_attempt_at=next_at, lease_owner=None, lease_until=None,
                                updated_at=now))
    return done.rowcount == 1


def release(conn: sa.Connection, ids: Sequence[int], token: str, now: datetime) -> None:
    """Give back claims never started: pending again, the attempt not counted."""
    for start in range(0, len(ids), 500):
        conn.execute(deliveries.update().where(deliveries.c.id.in_(list(ids[start:start + 500])),
                                               deliveries.c.lease_owner == token,
                                               deliveries.c.status == "sending")
                     .values(status="pending", attempts=deliveries.c.attempts - 1,
                             lease_owner=None, lease_until=None, updated_at=now))


def live_lease_owners(conn: sa.Connection, now: datetime) -> list[str]:
    return list(conn.scalars(sa.select(deliveries.c.lease_owner).distinct().where(
        deliveries.c.status == "sending", deliveries.c.lease_until >= now)))


def expire_leases(conn: sa.Connection, owners: Sequence[str], now: datetime) -> int:
    """End the leases of owners known to be dead, so their deliveries are retried at once."""
    if not owners:
        return 0
    done = conn.execute(deliveries.update().where(deliveries.c.status == "sending",
                                                  deliveries.c.lease_owner.in_(list(owners)))
                        .values(lease_until=now - timedelta(seconds=1)))
    return done.rowcount


def listing(conn: sa.Connection, run_id: int | None, email: str | None,
            limit: int) -> list[dict[str, Any]]:
    """The proof of what was sent: one dict per delivery, newest first (page mails have no
    run, period or digest; late_bounce_* is a bounce reported by mail after the server
    accepted the message)."""
    query = (sa.select(deliveries.c.id, deliveries.c.run_id, deliveries.c.kind,
                       digest_runs.c.frequency, digest_runs.c.period_start,
                       digest_runs.c.period_end, digest_contents.c.digest_id,
                       sa.func.coalesce(subscribers.c.email, deliveries.c.address)
                       .label("email"), deliveries.c.status, deliveries.c.attempts,
                       deliveries.c.message_id, deliveries.c.last_code,
                       deliveries.c.last_reply, deliveries.c.sent_at,
                       deliveries.c.next_attempt_at, deliveries.c.created_at,
                       deliveries.c.late_bounce_at, deliveries.c.late_bounce_status,
                       deliveries.c.late_bounce_code, deliveries.c.late_bounce_detail)
             .select_from(deliveries)
             .outerjoin(digest_runs, digest_runs.c.id == deliveries.c.run_id)
             .outerjoin(digest_contents, digest_contents.c.id == deliveries.c.content_id)
             .outerjoin(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
             .order_by(deliveries.c.id.desc()).limit(limit))
    if run_id is not None:
        query = query.where(deliveries.c.run_id == run_id)
    if email is not None:
        key = email.strip().casefold()
        query = query.where(sa.or_(subscribers.c.email_key == key,
                                   sa.func.lower(deliveries.c.address) == key))
    return [dict(r._mapping) for r in conn.execute(query)]


def purge_older_than(conn: sa.Connection, cutoff: datetime) -> int:
    """Forget final deliveries (and then empty runs) created before the retention cutoff."""
    old = conn.execute(deliveries.delete().where(deliveries.c.created_at < cutoff,
                                                 deliveries.c.status.in_(FINAL)))
    has_rows = sa.select(deliveries.c.id).where(deliveries.c.run_id == digest_runs.c.id).exists()
    old_runs = sa.select(digest_runs.c.id).where(digest_runs.c.created_at < cutoff,
                                                 digest_runs.c.status == "complete", ~has_rows)
    run_ids = list(conn.scalars(old_runs))
    if run_ids:
        conn.execute(digest_contents.delete().where(digest_contents.c.run_id.in_(run_ids)))
        conn.execute(digest_runs.delete().where(digest_runs.c.id.in_(run_ids)))
    return old.rowcount
