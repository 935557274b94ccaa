"""Reads behind the proof of sending: runs with their counts, deliveries by run, agency and
bulletin, and which runs carried a bulletin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syndicator.models.bulletin import Bulletin
from syndicator.models.run import Run
from syndicator.state.schema import deliveries, digest_contents, digest_runs, subscribers

FREQUENCIES = ("immediate", "daily", "weekly")


@dataclass
class Counts:
    """A run's deliveries by outcome. `bounced`: failed with a 5xx (a late bounce, once
    recorded on the delivery, is counted here too)."""

    queued: int = 0  # pending, never tried
    sending: int = 0
    retrying: int = 0  # pending after a failed attempt
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sending + self.retrying + self.sent + self.failed + self.skipped


@dataclass(frozen=True)
class Carrier:
    """A run that carried a bulletin, and the digest contents of that run that hold it."""

    run: Run
    content_ids: tuple[int, ...]
    digest_ids: tuple[str, ...] = field(default_factory=tuple)


def runs(conn: sa.Connection, limit: int, *, frequency: str | None = None,
         before: int | None = None) -> list[Run]:
    """Newest first, paged by id."""
    query = sa.select(digest_runs).order_by(digest_runs.c.id.desc()).limit(limit)
    if frequency:
        query = query.where(digest_runs.c.frequency == frequency)
    if before is not None:
        query = query.where(digest_runs.c.id < before)
    return [Run(**r._mapping) for r in conn.execute(query)]


def counts(conn: sa.Connection, run_ids: Sequence[int]) -> dict[int, Counts]:
    """Each run's deliveries by outcome, in one grouped read."""
    d = deliveries.c
    retried = sa.case((d.attempts > 0, 1), else_=0)
    hard = sa.case((d.last_code >= 500, 1), else_=0)
    query = (sa.select(d.run_id, d.status, retried, hard, sa.func.count())
             .where(d.run_id.in_(list(run_ids))).group_by(d.run_id, d.status, retried, hard))
    out = {run_id: Counts() for run_id in run_ids}
    for run_id, status, was_tried, was_hard, n in conn.execute(query):
        tally(out[run_id], status, bool(was_tried), bool(was_hard), int(n))
    return out


def tally(c: Counts, status: str, tried: bool, hard: bool, n: int) -> None:
    if status == "pending":
        if tried:
            c.retrying += n
        else:
            c.queued += n
    elif status in ("sending", "sent", "failed", "skipped"):
        setattr(c, status, getattr(c, status) + n)
        if status == "failed" and hard:
            c.bounced += n


def queue(conn: sa.Connection) -> Counts:
    """Deliveries not final yet, all runs and page mails together."""
    d = deliveries.c
    retried = sa.case((d.attempts > 0, 1), else_=0)
    query = (sa.select(d.status, retried, sa.func.count())
             .where(d.status.in_(("pending", "sending"))).group_by(d.status, retried))
    out = Counts()
    for status, was_tried, n in conn.execute(query):
        tally(out, status, bool(was_tried), False, int(n))
    return out


_DELIVERY_COLS = (deliveries.c.id, deliveries.c.run_id, deliveries.c.kind, deliveries.c.status,
                  deliveries.c.attempts, deliveries.c.message_id, deliveries.c.last_code,
                  deliveries.c.last_reply, deliveries.c.sent_at, deliveries.c.updated_at,
                  deliveries.c.next_attempt_at, deliveries.c.content_id,
                  subscribers.c.id.label("subscriber_id"), subscribers.c.email,
                  subscribers.c.name, digest_contents.c.digest_id)


def _deliveries(where: Sequence[sa.ColumnElement[bool]]) -> sa.Select[Any]:
    return (sa.select(*_DELIVERY_COLS).select_from(deliveries)
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            .outerjoin(digest_contents, digest_contents.c.id == deliveries.c.content_id)
            .where(*where))


def run_deliveries(conn: sa.Connection, run_id: int, limit: int | None = None,
                   after: int | None = None) -> list[dict[str, Any]]:
    """A run's deliveries by id (limit None: all of them, for an export)."""
    where: list[sa.ColumnElement[bool]] = [deliveries.c.run_id == run_id]
    if after is not None:
        where.append(deliveries.c.id > after)
    query = _deliveries(where).order_by(deliveries.c.id)
    return [dict(r._mapping) for r in conn.execute(query if limit is None else query.limit(limit))]


def content_deliveries(conn: sa.Connection, content_ids: Sequence[int],
                       subscriber_id: int | None = None, limit: int | None = None,
                       after: int | None = None) -> list[dict[str, Any]]:
    """Deliveries of these digest contents (a bulletin's), by id."""
    if not content_ids:
        return []
    where: list[sa.ColumnElement[bool]] = [deliveries.c.content_id.in_(list(content_ids))]
    if subscriber_id is not None:
        where.append(deliveries.c.subscriber_id == subscriber_id)
    if after is not None:
        where.append(deliveries.c.id > after)
    query = _deliveries(where).order_by(deliveries.c.id)
    return [dict(r._mapping) for r in conn.execute(query if limit is None else query.limit(limit))]


def run_delivery_of(conn: sa.Connection, run_ids: Sequence[int],
                    subscriber_id: int) -> list[dict[str, Any]]:
    """A subscriber's deliveries in these runs (one per run at most)."""
    if not run_ids:
        return []
    where = [deliveries.c.run_id.in_(list(run_ids)), deliveries.c.subscriber_id == subscriber_id]
    return [dict(r._mapping) for r in conn.execute(_deliveries(where))]


def carriers(conn: sa.Connection, bulletin: Bulletin) -> list[Carrier]:
    """The runs whose digests held this bulletin.

    A run's digests hold bulletins first seen within its period, and the periods of one
    frequency do not overlap: at most one run per frequency can carry a bulletin, found by
    the (frequency, period_start) key. Only those runs' contents are read.
    """
    found: list[Carrier] = []
    for run in _runs_covering(conn, bulletin.first_seen_at):
        rows = conn.execute(sa.select(digest_contents.c.id, digest_contents.c.digest_id,
                                      digest_contents.c.bulletin_ids)
                            .where(digest_contents.c.run_id == run.id)
                            .order_by(digest_contents.c.id)).all()
        held = [(r.id, r.digest_id) for r in rows if bulletin.id in (r.bulletin_ids or ())]
        if held:
            found.append(Carrier(run, tuple(i for i, _ in held), tuple(d for _, d in held)))
    return found


def _runs_covering(conn: sa.Connection, moment: datetime) -> list[Run]:
    out: list[Run] = []
    for frequency in FREQUENCIES:
        row = conn.execute(sa.select(digest_runs)
                           .where(digest_runs.c.frequency == frequency,
                                  digest_runs.c.period_start <= moment)
                           .order_by(digest_runs.c.period_start.desc()).limit(1)).first()
        if row is not None and row.period_end > moment:
            out.append(Run(**row._mapping))
    return out


def subscriber_deliveries(conn: sa.Connection, subscriber_id: int,
                          limit: int) -> list[dict[str, Any]]:
    """Every mail to one subscriber, newest first, with its run's period."""
    query = (_deliveries([deliveries.c.subscriber_id == subscriber_id])
             .add_columns(digest_runs.c.frequency, digest_runs.c.period_start,
                          digest_runs.c.period_end)
             .outerjoin(digest_runs, digest_runs.c.id == deliveries.c.run_id)
             .order_by(deliveries.c.id.desc()).limit(limit))
    return [dict(r._mapping) for r in conn.execute(query)]
