"""Portal rows a poll skips: duplicates found, the list kept current, logs and metrics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
import structlog

from syndicator.errors import RowError
from syndicator.source.portal import SourceRow
from syndicator.state import problems
from syndicator.state.values import get_value, set_value
from syndicator.telemetry import metrics

log = structlog.get_logger(__name__)

SWEEP_STARTED = "ingest.sweep_started"  # when the discovery sweep last began from the start


def distinct(rows: Iterable[SourceRow], errors: list[RowError]) -> dict[str, list[SourceRow]]:
    """The rows of each id, in the same order at every poll; rows sharing an id (no unique
    key, or spellings that normalise alike) are reported. The caller uses the first of them
    that reads as a public bulletin, so a stray or unreadable copy never hides a good one."""
    groups: dict[str, list[SourceRow]] = {}
    for row in rows:
        groups.setdefault(row.source_id, []).append(row)
    for sid, group in groups.items():
        if len(group) > 1:
            group.sort(key=lambda r: (r.key, repr(sorted(r.values.items(), key=str))))
            errors.append(RowError(sid, "id", f"{len(group)} portal rows have this id; the "
                                   "first of them (by key) that reads as a public bulletin "
                                   "is used", reason="duplicate_id"))
    return groups


def unique(errors: Iterable[RowError]) -> list[RowError]:
    """Each row once, though several reads of one poll met it."""
    seen: dict[tuple[str, str, str], RowError] = {}
    for e in errors:
        seen.setdefault((e.source_id, e.field, e.problem), e)
    return list(seen.values())


def record(conn: sa.Connection, errors: Sequence[RowError], now: datetime) -> None:
    """Keep the list current; log a row when it is first skipped (or its problem changes),
    count every skip by reason."""
    for error in problems.record(conn, errors, now):
        log.warning("poll.row_skipped", source_id=error.source_id[:100], field=error.field,
                    reason=error.reason, problem=error.problem[:200])
    for error in errors:
        metrics.source_row_skipped(error.reason)
    metrics.source_rows_skipped_now(problems.counts(conn))


def resolve(conn: sa.Connection, source_ids: Sequence[str]) -> None:
    """Rows read well leave the list."""
    problems.resolve(conn, source_ids)


def end_of_sweep(conn: sa.Connection, now: datetime) -> None:
    """The discovery sweep met every row since it last started: rows still listed but not
    met since then were deleted or fixed where no poll re-reads them."""
    started = get_value(conn, SWEEP_STARTED)
    if started:
        problems.prune(conn, datetime.fromisoformat(started))
    set_value(conn, SWEEP_STARTED, now.isoformat())
