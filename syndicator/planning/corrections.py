"""Who is told of a correction or withdrawal, and how: a "Đính chính:"/"Thu hồi:" mail now,
a section of their next digest, or nothing (corrections.notify; docs/adr/018)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.state import bulletins as bulletin_store
from syndicator.state import corrections as store
from syndicator.state import versions
from syndicator.state.outbox import CORRECTION, PRIORITY_CORRECTION, enqueue_many
from syndicator.state.versions import Version
from syndicator.telemetry import metrics

log = structlog.get_logger(__name__)


def queue_corrections(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """Plan every version ingest recorded and nobody planned yet; the notices queued.

    Derived from the database (versions with no `planned_at`), never from a poll's memory:
    a crash between the poll and this call loses nothing, the next poll or recovery tick
    plans the same versions. Each version is claimed by a conditional update in the
    transaction that queues its mail, so two processes never announce it twice.
    """
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        pending = versions.unplanned(conn)
    queued = 0
    for version in pending:
        with engine.begin() as conn:
            if versions.mark_planned(conn, version, now):
                queued += _plan(conn, version, settings.corrections.notify, now)
    return queued


def _plan(conn: sa.Connection, version: Version, mode: str, now: datetime) -> int:
    latest = versions.latest(conn, version.bulletin_id)
    if mode == "off" or (latest is not None and latest.version > version.version):
        return 0  # a later version is announced instead: one mail, from what they had
    found = bulletin_store.get_many(conn, [version.bulletin_id])
    if not found:
        return 0
    told = store.told(conn, version.bulletin_id)
    timeline = versions.timeline(conn, version.bulletin_id)
    had: dict[int, int] = {}
    for r in store.recipients(conn, version.bulletin_id, found[0].first_seen_at,
                              version.created_at):
        before = max(told.get(r.subscriber_id, 0),
                     versions.current_at(timeline, r.last_mailed_at))
        if before < version.version:  # else told already, or their digest showed it
            had[r.subscriber_id] = before
    payloads = {s: {"bulletin_id": version.bulletin_id, "version": version.version,
                    "from_version": h} for s, h in had.items()}
    mails = enqueue_many(conn, CORRECTION, payloads, now, PRIORITY_CORRECTION) \
        if mode == "immediate" else {}
    store.record_many(conn, version.bulletin_id, version.version, had, mode, now, mails)
    count = len(had)
    metrics.corrections_planned(mode, "withdrawn" if version.state == "withdrawn"
                                else "corrected", count)
    log.info("corrections.planned", bulletin_id=version.bulletin_id, version=version.version,
             state=version.state, how=mode, subscribers=count)
    return count
