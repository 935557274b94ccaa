"""Outbox figures read from its rows: queue depth, and publication-to-send latency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.state import outbox
from syndicator.state.schema import bulletins, deliveries, digest_contents, digest_runs
from syndicator.telemetry import metrics

log = structlog.get_logger(__name__)


def depth(engine: Engine) -> tuple[int, int]:
    """(not final, due now); the first is published as the queue-depth gauge."""
    now = datetime.now(UTC)
    not_final = deliveries.c.status.in_(("pending", "sending"))
    # SUM(CASE ...) rather than COUNT(*) FILTER: MariaDB has no FILTER clause.
    query = sa.select(sa.func.sum(sa.case((not_final, 1), else_=0)),
                      sa.func.sum(sa.case((outbox.due(now, retry_now=False), 1), else_=0)))
    with engine.connect() as conn:
        depth, due = conn.execute(query.select_from(deliveries)).one()
    metrics.queue_depth(depth or 0)
    return depth or 0, due or 0


def waiting(engine: Engine) -> int:
    """Messages still pending: due now, or waiting for a retry (not those being sent)."""
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(deliveries)
                           .where(deliveries.c.status == "pending")) or 0


def record_latency(engine: Engine, content_ids: Iterable[int], sent_at: datetime) -> None:
    """For each immediate message just recorded: publication-to-send of each bulletin in it.

    Read after the sender's commit, and never raises: a metric must not stop the sending.
    """
    ids = list(content_ids)
    if not ids:
        return
    try:
        with engine.connect() as conn:
            _observe_latency(conn, ids, sent_at)
    except sa.exc.DBAPIError as exc:
        log.warning("metrics.latency_unavailable", error=str(exc.orig or exc).splitlines()[0])


def _observe_latency(conn: sa.Connection, ids: list[int], sent_at: datetime) -> None:
    rows = conn.execute(
        sa.select(digest_contents.c.id, digest_contents.c.bulletin_ids)
        .join(digest_runs, digest_runs.c.id == digest_contents.c.run_id)
        .where(digest_contents.c.id.in_(set(ids)), digest_runs.c.frequency == "immediate")
    ).all()
    bulletin_ids = {cid: list(b_ids or []) for cid, b_ids in rows}
    wanted = {b for b_ids in bulletin_ids.values() for b in b_ids}
    if not wanted:
        return
    published = dict(conn.execute(sa.select(bulletins.c.id, bulletins.c.published_at)
                                  .where(bulletins.c.id.in_(wanted))).all())
    for cid in ids:  # once per message, so a list of 500 recipients weighs 500 times
        for b in bulletin_ids.get(cid, ()):
            if b in published:
                metrics.publication_to_send((sent_at - published[b]).total_seconds())
