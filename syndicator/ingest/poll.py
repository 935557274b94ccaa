"""One poll of the portal: new, changed and withdrawn bulletins, at a cost bounded by change."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.config.settings import Settings
from syndicator.errors import RowError
from syndicator.ingest import changes, fresh, skipped
from syndicator.ingest.categories import CategorySlugs
from syndicator.ingest.clean import clean_row
from syndicator.ingest.fresh import NEW_ROWS, FreshState
from syndicator.models.bulletin import CleanBulletin, Known
from syndicator.source.portal import PortalSource, SourceRow
from syndicator.source.reading import Page
from syndicator.source.values import parse_timestamp, public_at
from syndicator.state import bulletins as store
from syndicator.state.values import INGEST_WATERMARK, get_value, set_value

log = structlog.get_logger(__name__)

VERIFY_CURSOR = "ingest.verify_cursor"
DISCOVER_CURSOR = "ingest.discover_cursor"
_FIRST_IMPORT_BATCH = 1000


def utcnow() -> datetime:
    return datetime.now(UTC)


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


@dataclass(frozen=True)
class _KeyReads:
    """What one incremental poll read of the portal's key columns, and from where."""

    checked: dict[str, Known]  # our hot set and verification sweep, by source id
    verify: list[Known]
    keys: list[SourceRow]  # the portal's rows for `checked` (missing ones were deleted)
    discovered: Page  # the discovery sweep
    fresh_state: FreshState | None
    new: list[SourceRow]  # ids past the highest seen
    waiting: list[SourceRow]  # recent rows not public yet, re-read


class Poller:
    """Compares the portal with our copy: a time window where the portal's indexes allow it,
    new ids, the hot set and two rotating sweeps (ADR 001)."""

    def __init__(self, settings: Settings, source: PortalSource, engine: Engine,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._s = settings
        self._source = source
        self._engine = engine
        self._clock = clock

    def poll(self) -> PollReport:
        now = self._clock()
        report = PollReport()
        self._source.take_skipped()  # left by reads outside a poll (a check, a bench)
        with self._engine.connect() as conn:
            watermark = get_value(conn, INGEST_WATERMARK)
        if watermark is None:
            self._first_import(now, report)
        else:
            self._incremental(datetime.fromisoformat(watermark), now, report)
        report.errors = skipped.unique([*self._source.take_skipped(), *report.errors])
        with self._engine.begin() as conn:
            skipped.record(conn, report.errors, now)
        log.info("poll.done", new=len(report.new), changed=len(report.changed),
                 withdrawn=len(report.withdrawn), archived=len(report.archived),
                 errors=len(report.errors), rows_read=report.rows_read)
        return report

    def _first_import(self, now: datetime, report: PollReport) -> None:
        pages_new_ids = self._source.describe().pages_new_ids
        high, waiting = 0, tuple[int, ...]()  # the highest id read, the newest not public yet
        for batch in self._source.all_rows(_FIRST_IMPORT_BATCH):
            with self._engine.begin() as conn:
                self._apply(conn, batch, [], now, report, history=True)
            if pages_new_ids:
                high = max([high, *(int(r.key) for r in batch)])
                waiting = fresh.newest([*waiting, *self._waiting(batch, now)],
                                       self._s.ingest.hot_limit)
        with self._engine.begin() as conn:
            set_value(conn, INGEST_WATERMARK, now.isoformat())
            if pages_new_ids:
                set_value(conn, NEW_ROWS, FreshState(((now, high),), waiting).dump())

    def _incremental(self, watermark: datetime, now: datetime, report: PollReport) -> None:
        window = self._source.changed_since(watermark - self._overlap, now)
        reads = self._read_keys(now)
        gone = set(reads.checked) - {r.source_id for r in reads.keys}
        wanted, waiting = self._triage(reads, {r.source_id for r in window}, now)
        rows = window + (self._source.by_ids(sorted(wanted)) if wanted else [])
        with self._engine.begin() as conn:
            self._apply(conn, rows, sorted(gone), now, report)
            self._save_cursors(conn, reads, waiting, now)

    def _read_keys(self, now: datetime) -> _KeyReads:
        """The key columns of the hot set, both sweeps and the new ids (each bounded)."""
        ing = self._s.ingest
        with self._engine.connect() as conn:
            hot = store.hot(conn, now - timedelta(days=ing.hot_days),
                            self._s.feeds.max_entries, ing.hot_limit)
            verify = store.public_after(conn, int(get_value(conn, VERIFY_CURSOR) or 0),
                                        ing.sweep_batch)
            discover_after = get_value(conn, DISCOVER_CURSOR) or None
            fresh_state = self._fresh_state(conn, now)
        checked = {k.source_id: k for k in (*hot, *verify)}
        new, waiting = (fresh.read(self._source, fresh_state, now, self._overlap)
                        if fresh_state else ([], []))
        return _KeyReads(
            checked=checked, verify=verify, fresh_state=fresh_state, new=new, waiting=waiting,
            keys=self._source.by_ids(_portal_keys(checked.values()), keys_only=True),
            discovered=self._source.after(discover_after, ing.sweep_batch, keys_only=True))

    def _fresh_state(self, conn: sa.Connection, now: datetime) -> FreshState | None:
        """Where to page new ids from; None when the portal's ids cannot be paged."""
        if not self._source.describe().pages_new_ids:
            return None
        state = FreshState.load(get_value(conn, NEW_ROWS))
        if state is None:  # state from before paging by id: start at our newest bulletins
            ours = [int(s) for s in store.newest_source_ids(conn, 100)
                    if s.isascii() and s.isdigit()]
            high = max(ours) if ours else _as_int(self._source.newest_key())
            state = FreshState(((now, high),))
        return state

    def _save_cursors(self, conn: sa.Connection, reads: _KeyReads, waiting: list[int],
                      now: datetime) -> None:
        set_value(conn, INGEST_WATERMARK, now.isoformat())
        set_value(conn, VERIFY_CURSOR, str(reads.verify[-1].id if reads.verify else 0))
        page = reads.discovered
        wrapped = not (page.full and page.after is not None)
        set_value(conn, DISCOVER_CURSOR, "" if wrapped else str(page.after))
        if wrapped:  # every portal row was met since the last wrap: forget the rows not met
            skipped.end_of_sweep(conn, now)
        if reads.fresh_state is not None:
            state = reads.fresh_state.advance(now, self._overlap, reads.new, waiting,
                                              self._s.ingest.hot_limit)
            set_value(conn, NEW_ROWS, state.dump())

    def _waiting(self, rows: Iterable[SourceRow], now: datetime) -> list[int]:
        """Ids of drafts and scheduled bulletins (an unreadable published_at is not waited on)."""
        return [int(r.key) for r in rows if self._judge(r, None, now)[1]]

    @property
    def _overlap(self) -> timedelta:
        return timedelta(seconds=self._s.ingest.overlap_seconds)

    def _triage(self, reads: _KeyReads, have: set[str],
                now: datetime) -> tuple[set[str], list[int]]:
        """Keys of rows to read whole (key columns that disagree with our copy, outside `have`),
        and the new or waiting ids not public yet; each row is judged once."""
        found = [*reads.discovered.rows, *reads.new, *reads.waiting]
        unknown = [r.source_id for r in found if r.source_id not in reads.checked]
        with self._engine.connect() as conn:
            known = reads.checked | store.known(conn, unknown)
        wanted = {r.key for r in (*reads.keys, *reads.discovered.rows)
                  if r.source_id not in have and self._judge(r, known.get(r.source_id), now)[0]}
        waiting: list[int] = []
        for r in (*reads.new, *reads.waiting):
            differs, not_yet = self._judge(r, known.get(r.source_id), now)
            if differs and r.source_id not in have:
                wanted.add(r.key)
            if not_yet:
                waiting.append(int(r.key))
        return wanted, waiting

    def _judge(self, row: SourceRow, k: Known | None, now: datetime) -> tuple[bool, bool]:
        """(its key columns disagree with our copy, it is not public yet): one parse of them."""
        try:
            published = public_at(row.values, self._s.source.published_status, self._s.tz)
        except ValueError:  # the full read reports the row and its field; it is not waited on
            return True, False
        return self._differs(row, published, k, now), published is None or published > now

    def _differs(self, row: SourceRow, published: datetime | None, k: Known | None,
                 now: datetime) -> bool:
        if published is None:  # not under the published status
            return k is not None and k.state == "public"
        try:
            raw_updated = row.values.get("updated_at")
            updated = None if raw_updated in (None, "") else parse_timestamp(raw_updated,
                                                                             self._s.tz)
        except ValueError:
            return True  # the full read reports the row and its field
        if k is None or (k.state == "public") != (published <= now):
            return published <= now or k is not None
        return published != k.published_at or updated != k.source_updated_at

    def _apply(self, conn: sa.Connection, rows: Sequence[SourceRow], gone: Iterable[str],
               now: datetime, report: PollReport, history: bool = False) -> None:
        latest = skipped.distinct(rows, report.errors)
        changes_before = _changes(report)
        report.rows_read += len(rows)
        known = store.known(conn, [*latest, *gone])
        to_withdraw = [known[sid] for sid in gone if sid in known]
        slugs = CategorySlugs()
        for sid, candidates in latest.items():
            errors_before = len(report.errors)
            row, bulletin = self._first_public(candidates, now, report)
            if bulletin is not None:
                bulletin = slugs.assign(conn, bulletin)
            k = known.get(sid)
            if bulletin is None:
                # A row we cannot read keeps its last good copy; only a clear "not public"
                # withdraws.
                if k is not None and len(report.errors) == errors_before:
                    to_withdraw.append(k)
            elif k is None:
                self._insert(conn, bulletin, row.portal_key, now, report, history)
            elif k.state != "public" or k.content_hash != bulletin.content_hash:
                old = store.get_many(conn, [k.id])
                store.update(conn, k, bulletin, now, row.portal_key)
                changes.note_update(conn, old[0], bulletin, now,
                                    self._s.corrections.min_changed_chars)
                report.changed.append(k.id)
        public_ids = [k.id for k in to_withdraw if k.state == "public"]
        changes.note_withdrawals(conn, store.get_many(conn, public_ids), now)
        store.withdraw(conn, public_ids, now)
        report.withdrawn += public_ids
        if _changes(report) != changes_before:
            store.note_change(conn)  # in this transaction: replicas rebuild feeds on it
        failed = {e.source_id for e in report.errors}
        skipped.resolve(conn, [sid for sid in latest if sid not in failed])

    def _first_public(self, rows: Sequence[SourceRow], now: datetime,
                      report: PollReport) -> tuple[SourceRow, CleanBulletin | None]:
        """Of the rows sharing an id (usually one), the first that reads as a public bulletin;
        else the first row, with no bulletin."""
        for row in rows:
            bulletin = self._public_bulletin(row, now, report)
            if bulletin is not None:
                return row, bulletin
        return rows[0], None

    def _public_bulletin(self, row: SourceRow, now: datetime,
                         report: PollReport) -> CleanBulletin | None:
        """The cleaned bulletin if the portal shows it now; errors are reported, not raised."""
        try:
            if public_at(row.values, self._s.source.published_status, self._s.tz) is None:
                return None  # not under the published status: nothing to clean or report
        except ValueError:
            pass  # published, with a date clean_row names
        try:
            bulletin = clean_row(row, self._s.tz, str(self._s.site.url),
                                 self._s.source.category_separator)
        except RowError as exc:  # logged once by skipped.record, when first met
            report.errors.append(exc)
            return None
        return bulletin if bulletin.published_at <= now else None

    def _insert(self, conn: sa.Connection, b: CleanBulletin, portal_key: str | None,
                now: datetime, report: PollReport, history: bool) -> None:
        # Only the first import holds history; later, an old date means backdated or late: mail it.
        max_age = timedelta(days=self._s.ingest.notify_max_age_days)
        notify = not history or b.published_at >= now - max_age
        new_id = store.insert(conn, b, now, notify, portal_key)
        (report.new if notify else report.archived).append(new_id)


def _as_int(key: str | None) -> int:
    """The portal's highest id as a number (0 when it is not one: text in an integer column)."""
    try:
        return int(key or 0)
    except ValueError:
        return 0


def _changes(report: PollReport) -> int:
    return len(report.new) + len(report.archived) + len(report.changed) + len(report.withdrawn)


def _portal_keys(known: Iterable[Known]) -> list[str]:
    """Our copy's spelling and the portal's: either finds the row (a portal may normalise later)."""
    return sorted({key for k in known for key in (k.source_id, k.key)})
