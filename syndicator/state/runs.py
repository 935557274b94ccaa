"""Reads and writes digest runs, their contents and the deliveries they create."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syndicator.models.message import Digest
from syndicator.models.run import Run
from syndicator.state import bulletins as bulletin_store
from syndicator.state.rows import inserted_id
from syndicator.state.schema import deliveries, digest_contents, digest_runs, subscribers

_CHUNK = 1000
AnyRow = sa.Row[*tuple[Any, ...]]  # a row of any columns


def get_run(conn: sa.Connection, frequency: str, period_start: datetime) -> Run | None:
    row = conn.execute(sa.select(digest_runs).where(
        digest_runs.c.frequency == frequency,
        digest_runs.c.period_start == period_start)).first()
    return Run(**row._mapping) if row else None


def run_by_id(conn: sa.Connection, run_id: int) -> Run | None:
    row = conn.execute(sa.select(digest_runs).where(digest_runs.c.id == run_id)).first()
    return Run(**row._mapping) if row else None


def run_covering(conn: sa.Connection, frequency: str, end: datetime) -> Run | None:
    """The run whose period holds the moment just before `end`: the one already made for a
    period ending there (runs never overlap, so there is at most one)."""
    row = conn.execute(sa.select(digest_runs).where(
        digest_runs.c.frequency == frequency, digest_runs.c.period_start < end,
        digest_runs.c.period_end >= end).order_by(digest_runs.c.period_end).limit(1)).first()
    return Run(**row._mapping) if row else None


def latest_end_before(conn: sa.Connection, frequency: str, end: datetime) -> datetime | None:
    """Where the previous run ended: a new period ending at `end` starts no earlier."""
    found: datetime | None = conn.scalar(sa.select(sa.func.max(digest_runs.c.period_end)).where(
        digest_runs.c.frequency == frequency, digest_runs.c.period_end < end))
    return found


def unfinished(conn: sa.Connection) -> list[Run]:
    """Runs still composing or sending (few: a run is complete once its mail is final)."""
    rows = conn.execute(sa.select(digest_runs).where(digest_runs.c.status != "complete")
                        .order_by(digest_runs.c.id))
    return [Run(**r._mapping) for r in rows]


def delivery_counts(conn: sa.Connection, run_id: int) -> dict[str, int]:
    """How many of a run's deliveries are in each status."""
    rows = conn.execute(sa.select(deliveries.c.status, sa.func.count())
                        .where(deliveries.c.run_id == run_id).group_by(deliveries.c.status))
    return {status: int(count) for status, count in rows}


def copies(conn: sa.Connection, run_id: int, kind: str) -> list[dict[str, Any]]:
    """A run's mail to configured addresses of one kind: address, status, sent_at."""
    rows = conn.execute(sa.select(deliveries.c.address, deliveries.c.status,
                                  deliveries.c.sent_at)
                        .where(deliveries.c.run_id == run_id, deliveries.c.kind == kind)
                        .order_by(deliveries.c.id))
    return [dict(r._mapping) for r in rows]


def latest_end(conn: sa.Connection, frequency: str) -> datetime | None:
    end: datetime | None = conn.scalar(sa.select(sa.func.max(digest_runs.c.period_end))
                                       .where(digest_runs.c.frequency == frequency))
    return end


def insert_run(conn: sa.Connection, frequency: str, start: datetime, end: datetime,
               now: datetime) -> int | None:
    """A new run in `composing`, or None when another process created it first."""
    try:
        with conn.begin_nested():
            return inserted_id(conn.execute(digest_runs.insert().values(
                frequency=frequency, period_start=start, period_end=end, status="composing",
                created_at=now)))
    except sa.exc.IntegrityError:
        return None


def audience_rows(conn: sa.Connection, frequency: str) -> Iterator[AnyRow]:
    """Active, unpaused subscribers of a frequency: only what planning needs."""
    query = (sa.select(subscribers.c.id, subscribers.c.categories, subscribers.c.created_at,
                       subscribers.c.confirmed_at)
             .where(subscribers.c.frequency == frequency, subscribers.c.status == "active",
                    subscribers.c.paused == sa.false())
             .order_by(subscribers.c.id))
    yield from conn.execute(query)


def insert_content(conn: sa.Connection, run_id: int, digest_id: str, key: str,
                   bulletin_ids: Sequence[int], now: datetime) -> int:
    return inserted_id(conn.execute(digest_contents.insert().values(
        digest_id=digest_id, run_id=run_id, content_key=key, bulletin_ids=list(bulletin_ids),
        created_at=now)))


def insert_deliveries(conn: sa.Connection, run_id: int, content_id: int,
                      subscriber_ids: Sequence[int], now: datetime) -> None:
    for start in range(0, len(subscriber_ids), _CHUNK):
        conn.execute(deliveries.insert(), [
            {"run_id": run_id, "subscriber_id": sid, "content_id": content_id,
             "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
             "updated_at": now}
            for sid in subscriber_ids[start:start + _CHUNK]])


def insert_copies(conn: sa.Connection, run_id: int, content_id: int, addresses: Sequence[str],
                  kind: str, priority: int, now: datetime) -> None:
    """A run's copies to configured addresses (no subscriber), claimed by `priority`."""
    if addresses:
        conn.execute(deliveries.insert(), [
            {"run_id": run_id, "address": address, "content_id": content_id, "kind": kind,
             "priority": priority, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "created_at": now, "updated_at": now} for address in addresses])


def set_run_status(conn: sa.Connection, run_id: int, status: str, now: datetime) -> None:
    values = {"status": status, "completed_at": now if status == "complete" else None}
    conn.execute(digest_runs.update().where(digest_runs.c.id == run_id).values(**values))


def complete_finished(conn: sa.Connection, now: datetime) -> int:
    """Mark `complete` every sending run whose deliveries are all final.

    The check is a plain read, then a keyed update: a locking subquery over deliveries would
    deadlock with other senders on MariaDB. A stale read is harmless, as final states are final.
    """
    open_ = sa.select(deliveries.c.id).where(
        deliveries.c.run_id == digest_runs.c.id,
        deliveries.c.status.in_(("pending", "sending"))).exists()
    done_ids = list(conn.scalars(sa.select(digest_runs.c.id)
                                 .where(digest_runs.c.status == "sending", ~open_)))
    if not done_ids:
        return 0
    done = conn.execute(digest_runs.update()
                        .where(digest_runs.c.id.in_(done_ids), digest_runs.c.status == "sending")
                        .values(status="complete", completed_at=now))
    return done.rowcount


def content(conn: sa.Connection, content_id: int) -> AnyRow | None:
    return _content_where(conn, digest_contents.c.id == content_id)


def content_by_digest_id(conn: sa.Connection, digest_id: str) -> AnyRow | None:
    """A sent digest's content (for the web copy at /digests/<id>)."""
    return _content_where(conn, digest_contents.c.digest_id == digest_id)


def _content_where(conn: sa.Connection, condition: sa.ColumnElement[bool]) -> AnyRow | None:
    """A digest's content with its run's frequency and period."""
    query = (sa.select(digest_contents, digest_runs.c.frequency, digest_runs.c.period_start,
                       digest_runs.c.period_end)
             .join(digest_runs, digest_runs.c.id == digest_contents.c.run_id)
             .where(condition))
    return conn.execute(query).first()


def sent_digest(conn: sa.Connection, row: AnyRow | None) -> Digest | None:
    """A digest content row (content() or content_by_digest_id()) as it reads now: bulletins
    withdrawn since dropped, newest first; None when none is left."""
    if row is None:
        return None
    found = [b for b in bulletin_store.get_many(conn, [int(i) for i in row.bulletin_ids])
             if b.state == "public"]
    if not found:
        return None
    found.sort(key=lambda b: (b.published_at, b.id), reverse=True)
    return Digest(digest_id=row.digest_id, frequency=row.frequency,
                  period_start=row.period_start, period_end=row.period_end,
                  bulletins=tuple(found))
