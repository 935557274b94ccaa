"""One poll of the portal: new, changed and withdrawn bulletins, at a cost bounded by change."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.errors import RowError
from syndicator.ingest.clean import CleanBulletin, clean_row
from syndicator.settings import Settings
from syndicator.source.portal import PortalSource, SourceRow
from syndicator.source.values import as_text
from syndicator.state import bulletins as store
from syndicator.state.values import get_value, set_value
from syndicator.text import one_line

log = structlog.get_logger(__name__)

WATERMARK = "ingest.watermark"
VERIFY_CURSOR = "ingest.verify_cursor"
DISCOVER_CURSOR = "ingest.discover_cursor"
_FIRST_IMPORT_BATCH = 1000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class PollReport:
    """What a poll found; `new` holds our ids of bulletins to announce."""

    new: list[int] = field(default_factory=list)
    archived: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.new or self.archived or self.changed or self.withdrawn)


class Poller:
    """Compares the portal with our copy: a window of recent edits plus two rotating sweeps."""

    def __init__(self, settings: Settings, source: PortalSource, engine: Engine,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._s = settings
        self._source = source
        self._engine = engine
        self._clock = clock

    def poll(self) -> PollReport:
        now = self._clock()
        report = PollReport()
        with self._engine.connect() as conn:
            watermark = get_value(conn, WATERMARK)
        if watermark is None:
            self._first_import(now, report)
        else:
            self._incremental(datetime.fromisoformat(watermark), now, report)
        log.info("poll.done", new=len(report.new), changed=len(report.changed),
                 withdrawn=len(report.withdrawn), archived=len(report.archived),
                 errors=len(report.errors), rows_read=report.rows_read)
        return report

    def _first_import(self, now: datetime, report: PollReport) -> None:
        for batch in self._source.all_rows(_FIRST_IMPORT_BATCH):
            with self._engine.begin() as conn:
                self._apply(conn, batch, [], now, report)
        with self._engine.begin() as conn:
            set_value(conn, WATERMARK, now.isoformat())

    def _incremental(self, watermark: datetime, now: datetime, report: PollReport) -> None:
        since = watermark - timedelta(seconds=self._s.ingest.overlap_seconds)
        rows = self._source.changed_since(since)
        with self._engine.connect() as conn:
            hot = store.hot_source_ids(conn, now - timedelta(days=self._s.ingest.hot_days),
                                       self._s.feeds.max_entries)
            verify_after = int(get_value(conn, VERIFY_CURSOR) or 0)
            verify = store.public_after(conn, verify_after, self._s.ingest.sweep_batch)
            discover_after = get_value(conn, DISCOVER_CURSOR) or None
        asked = sorted(set(hot) | {sid for _, sid in verify})
        rows += self._source.by_ids(asked)
        discovered = self._source.after(discover_after, self._s.ingest.sweep_batch)
        rows += discovered
        gone = set(asked) - {r.source_id for r in rows}
        with self._engine.begin() as conn:
            self._apply(conn, rows, sorted(gone), now, report)
            set_value(conn, WATERMARK, now.isoformat())
            set_value(conn, VERIFY_CURSOR, str(verify[-1][0] if verify else 0))
            next_discover = discovered[-1].source_id if len(discovered) == \
                self._s.ingest.sweep_batch else ""
            set_value(conn, DISCOVER_CURSOR, next_discover)

    def _apply(self, conn: sa.Connection, rows: Sequence[SourceRow], gone: Iterable[str],
               now: datetime, report: PollReport) -> None:
        latest = {r.source_id: r for r in rows}
        report.rows_read += len(rows)
        known = store.known(conn, [*latest, *gone])
        to_withdraw = [known[sid] for sid in gone if sid in known]
        for sid, row in latest.items():
            errors_before = len(report.errors)
            bulletin = self._public_bulletin(row, now, report)
            k = known.get(sid)
            if bulletin is None:
                # A row we cannot read keeps its last good copy; only a clear "not public" withdraws.
                if k is not None and len(report.errors) == errors_before:
                    to_withdraw.append(k)
            elif k is None:
                self._insert(conn, bulletin, now, report)
            elif k.state != "public" or k.content_hash != bulletin.content_hash:
                store.update(conn, k, bulletin, now)
                report.changed.append(k.id)
        public_ids = [k.id for k in to_withdraw if k.state == "public"]
        store.withdraw(conn, public_ids, now)
        report.withdrawn += public_ids

    def _public_bulletin(self, row: SourceRow, now: datetime,
                         report: PollReport) -> CleanBulletin | None:
        """The cleaned bulletin if the portal shows it now; errors are reported, not raised."""
        status = one_line(as_text(row.values.get("status")) or "")
        if status != self._s.source.published_status:
            return None
        try:
            bulletin = clean_row(row, self._s.tz, str(self._s.site.url))
        except RowError as exc:
            log.warning("poll.row_skipped", source_id=exc.source_id, field=exc.field,
                        problem=exc.problem)
            report.errors.append(exc)
            return None
        return bulletin if bulletin.published_at <= now else None

    def _insert(self, conn: sa.Connection, b: CleanBulletin, now: datetime,
                report: PollReport) -> None:
        max_age = timedelta(days=self._s.ingest.notify_max_age_days)
        notify = b.published_at >= now - max_age
        new_id = store.insert(conn, b, now, notify)
        (report.new if notify else report.archived).append(new_id)
