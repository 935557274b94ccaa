"""Read-only adapter over the portal's bulletin table, whatever its column names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.config.databases import create_engine, redacted
from syndicator.config.settings import SourceSettings
from syndicator.errors import RowError, SourceError, SourceSchemaError
from syndicator.models.text import one_line
from syndicator.source import query as queries
from syndicator.source import shape as shapes
from syndicator.source.reading import (
    Page,
    Unreadable,
    decode_sqlite_leniently,
    is_unreadable_value,
    read_rows,
    text_or_none,
)
from syndicator.source.shape import Shape
from syndicator.source.values import as_text, local_naive

log = structlog.get_logger(__name__)

FIELDS = ("id", "title", "summary", "body_html", "author", "category", "url",
          "published_at", "updated_at", "status",
          "document_number", "issued_at", "issuer", "document_type", "attachments")
FILES = "attachment_rows"  # values key: the rows of source.attachments_query for this row
# What decides whether a row needs a full read: cheap to fetch for thousands of rows.
KEY_FIELDS = ("id", "status", "published_at", "updated_at")
_BATCH = 500


@dataclass(frozen=True)
class SourceRow:
    """One portal row: its normalised id and the raw values under our field names."""

    source_id: str  # one line, NFC: what we store, look up and compare
    values: Mapping[str, Any]
    portal_key: str | None = None  # the portal's own spelling, when it differs

    @property
    def key(self) -> str:
        """What to bind to ask the portal for this row again, or to page after it."""
        return self.source_id if self.portal_key is None else self.portal_key


def source_row(values: Mapping[str, Any], int_ids: bool = False) -> SourceRow:
    """The one place a portal id is normalised (CHAR padding, NFD, stray control characters).

    Raises RowError for an id that cannot address its row: missing, unreadable, or not an
    integer in an integer column.
    """
    raw_id = values["id"]
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):  # most portals: every key read
        return SourceRow(str(raw_id), values)
    if raw_id is None:
        raise RowError("", "id", "is empty", reason="id")
    try:
        raw = as_text(raw_id) or ""
    except ValueError as exc:
        raise RowError("", "id", str(exc), reason="encoding") from None
    if int_ids:
        raise RowError(one_line(raw), "id", "is not an integer, as its column requires",
                       reason="id")
    source_id = one_line(raw)
    return SourceRow(source_id, values, None if raw == source_id else raw)


class PortalSource:
    """Queries whose cost depends on what changed, never on the size of the table."""

    def __init__(self, settings: SourceSettings, tz: ZoneInfo, engine: Engine | None = None):
        self._settings = settings
        self._tz = tz
        self._engine = engine or create_engine(
            settings.url.get_secret_value(), "source.url", read_only=True)
        if engine is None and self._engine.dialect.name == "sqlite":
            decode_sqlite_leniently(self._engine)
        self._shape: Shape | None = None
        self._files: sa.Subquery | None = None
        self._skipped: list[RowError] = []
        self.display_url = redacted(settings.url.get_secret_value())

    @property
    def engine(self) -> Engine:
        return self._engine

    def describe(self) -> Shape:
        """Reflect the table once; a missing table or mapped column is a SourceSchemaError."""
        if self._shape is None:
            self._shape = self._reflect() if self._settings.query is None else self._query()
            log.info("source.described",
                     table=self._settings.table if self._settings.query is None else "(query)",
                     window=",".join(self._shape.window) or "none",
                     pages_new_ids=self._shape.pages_new_ids)
        return self._shape

    def changed_since(self, since: datetime, until: datetime) -> list[SourceRow]:
        """Rows updated or published in [since, until], on the columns fit for a window.

        `until` (the poll's time) keeps bulletins scheduled for later out of every poll
        before their time; the first poll after it finds them in its window.
        """
        shape = self.describe()
        conds = [sa.and_(shape.cols[f] >= self._bind_ts(shape, f, since),
                         shape.cols[f] <= self._bind_ts(shape, f, until))
                 for f in shape.window]
        return self._fetch(self._select(shape).where(sa.or_(*conds)), False) if conds else []

    def newest_key(self) -> str | None:
        """The highest id in the table (an index lookup where new ids can be paged)."""
        shape = self.describe()
        try:
            with self._connect() as conn:
                newest = conn.scalar(sa.select(sa.func.max(shape.cols["id"])))
        except Unreadable:
            return None
        return text_or_none(newest)

    def by_ids(self, keys: Sequence[str], keys_only: bool = False) -> list[SourceRow]:
        """The rows with these keys (SourceRow.key) that still exist (KEY_FIELDS if keys_only)."""
        shape = self.describe()
        rows: list[SourceRow] = []
        for start in range(0, len(keys), _BATCH):
            chunk = [self._bind_id(shape, i) for i in keys[start:start + _BATCH]]
            query = self._select(shape, keys_only).where(shape.cols["id"].in_(chunk))
            rows += self._fetch(query, keys_only)
        return rows

    def after(self, cursor: str | None, limit: int, keys_only: bool = False) -> Page:
        """The next `limit` rows in id order after the key `cursor` (keyset paging).

        Rows that cannot be read still count for paging: one of them never ends the sweep.
        """
        shape = self.describe()
        query = self._select(shape, keys_only).order_by(shape.cols["id"]).limit(limit)
        if cursor is not None:
            query = query.where(shape.cols["id"] > self._bind_id(shape, cursor))
        read = read_rows(self._connect, query, shape.cols["id"], self._skipped)
        ids = [i for i in read.ids if i is not None]
        last = None if not ids else text_or_none(ids[-1])
        rows = self._rows(read.rows, shape)
        return Page(rows if keys_only else self._with_files(rows), last,
                    len(read.ids) >= limit)

    def all_rows(self, batch: int = 1000, after: str | None = None,
                 keys_only: bool = False) -> Iterator[list[SourceRow]]:
        """Every readable row past the key `after` (None: from the start), a batch at a time
        by id. A short batch is the last: no empty query to learn that."""
        cursor = after
        while True:
            page = self.after(cursor, batch, keys_only)
            if page.rows:
                yield page.rows
            if not page.full or page.after is None or page.after == cursor:
                break
            cursor = page.after

    def take_skipped(self) -> list[RowError]:
        """Rows that could not be read since the last call (each read reports its own)."""
        skipped, self._skipped = self._skipped, []
        return skipped

    def ping(self) -> None:
        """Connect and read the table's shape; raise SourceError naming what failed."""
        self._shape = None
        self._files = None
        self.describe()
        if self._settings.attachments_query is not None:
            self._files_source()

    @staticmethod
    def _select(shape: Shape, keys_only: bool = False) -> sa.Select[Any]:
        fields = [f for f in shape.cols if not keys_only or f in KEY_FIELDS]
        return sa.select(*[shape.cols[f].label(f) for f in fields])

    def _fetch(self, query: sa.Select[Any], keys_only: bool) -> list[SourceRow]:
        shape = self.describe()
        rows = self._rows(self._read(query, shape), shape)
        return rows if keys_only else self._with_files(rows)

    def _with_files(self, rows: list[SourceRow]) -> list[SourceRow]:
        """Each full row with its files from source.attachments_query (when set)."""
        if self._settings.attachments_query is None or not rows:
            return rows
        att = self._files_source()
        shape = self.describe()
        by_id: dict[str, list[dict[str, Any]]] = {}
        keys = [self._bind_id(shape, r.key) for r in rows]
        for start in range(0, len(keys), _BATCH):
            query = sa.select(att).where(att.c.bulletin_id.in_(keys[start:start + _BATCH]))
            with self._connect() as conn:
                for found in conn.execute(query).mappings():
                    by_id.setdefault(text_or_none(found["bulletin_id"]) or "", []).append(
                        dict(found))
        return [SourceRow(r.source_id, {**r.values, FILES: by_id.get(r.key, [])},
                          r.portal_key) for r in rows]

    def _files_source(self) -> sa.Subquery:
        if self._files is None:
            assert self._settings.attachments_query is not None
            self._files = queries.attachments_source(self._engine,
                                                     self._settings.attachments_query)
        return self._files

    def _query(self) -> Shape:
        assert self._settings.query is not None
        return queries.describe(self._engine, self._settings.query, FIELDS,
                                self._settings.indexed_fields)

    def _read(self, query: sa.Select[Any], shape: Shape) -> list[dict[str, Any]]:
        return read_rows(self._connect, query, shape.cols["id"], self._skipped).rows

    def _rows(self, raw: Sequence[Mapping[str, Any]], shape: Shape) -> list[SourceRow]:
        """The rows whose id can address them; the others are kept for take_skipped()."""
        rows: list[SourceRow] = []
        for values in raw:
            try:
                rows.append(source_row(values, shape.int_ids))
            except RowError as exc:
                self._skipped.append(exc)
        return rows

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn:
                try:
                    yield conn
                except UnicodeError as exc:  # raised by a driver decoding mid-fetch
                    conn.invalidate()  # its protocol state is unknown: never reuse it
                    raise Unreadable(str(exc).splitlines()[0][:200]) from None
        except sa.exc.DBAPIError as exc:
            if is_unreadable_value(exc):
                raise Unreadable(str(exc.orig).splitlines()[0][:200]) from None
            raise SourceError(self._failure("cannot be read", exc)) from None

    def _reflect(self) -> Shape:
        s = self._settings
        try:
            inspector = sa.inspect(self._engine)
            columns = {c["name"]: c for c in inspector.get_columns(s.table, schema=s.db_schema)}
            indexed = shapes.indexed_columns(inspector, s.table, s.db_schema)
        except sa.exc.NoSuchTableError:
            raise SourceSchemaError(f"source table {s.table!r} does not exist in "
                                    f"{self.display_url}") from None
        except sa.exc.DBAPIError as exc:
            raise SourceError(self._failure("is unreachable", exc)) from None
        mapping = {f: getattr(s.columns, f) for f in FIELDS if getattr(s.columns, f)}
        self._check_columns(mapping, columns)
        return self._shape_of(mapping, columns, {f for f, c in mapping.items() if c in indexed})

    def _shape_of(self, mapping: dict[str, str], columns: Mapping[str, Any],
                  indexed: set[str]) -> Shape:
        """Bindings, and which bounded reads this table allows (`indexed`: our field names)."""
        table = sa.table(self._settings.table, *map(sa.column, set(mapping.values())),
                         schema=self._settings.db_schema)
        cols = {f: table.c[col] for f, col in mapping.items()}
        kinds = {f: shapes.timestamp_kind(columns[mapping[f]]["type"], self._engine.dialect.name)
                 for f in shapes.TIMESTAMPS if f in mapping}
        int_ids = isinstance(columns[mapping["id"]]["type"], sa.Integer)
        iso_text = self._iso_text(cols, kinds)
        pages_new_ids = int_ids and "id" in indexed
        return Shape(cols=cols, int_ids=int_ids, ts_kind=kinds, pages_new_ids=pages_new_ids,
                     window=shapes.window_fields(kinds, set(iso_text), indexed, pages_new_ids),
                     text_sep=iso_text)

    def _iso_text(self, cols: Mapping[str, sa.ColumnClause[Any]],
                  kinds: Mapping[str, str]) -> dict[str, str]:
        """Text timestamp fields whose newest values all sort as time (dd/mm/yyyy does not)."""
        text_fields = [f for f, kind in kinds.items() if kind == "text"]
        if not text_fields:
            return {}
        try:
            with self._connect() as conn:
                samples = shapes.sample_text_timestamps(conn, cols, text_fields)
        except Unreadable:  # no window then: new and changed rows still come by id and sweeps
            return {}
        return shapes.iso_separators(samples)

    def _check_columns(self, mapping: dict[str, str], columns: Mapping[str, Any]) -> None:
        for field, col in mapping.items():
            if col not in columns:
                raise SourceSchemaError(
                    f"source table {self._settings.table!r} has no column {col!r} "
                    f"(source.columns.{field}); it has: {', '.join(sorted(columns))}")

    def _bind_ts(self, shape: Shape, field: str, moment: datetime) -> Any:
        kind = shape.ts_kind[field]
        if kind == "aware":
            return moment
        naive = local_naive(moment, self._tz)
        if kind == "naive":
            return naive
        return naive.isoformat(sep=shape.text_sep.get(field, " "), timespec="seconds")

    @staticmethod
    def _bind_id(shape: Shape, source_id: str) -> Any:
        """Our key as the column compares it; a key that is not a number (SQLite keeps text
        in an integer column) is bound as it is, never an error."""
        if shape.int_ids:
            try:
                return int(source_id)
            except ValueError:
                return source_id
        return source_id

    def _failure(self, what: str, exc: Exception) -> str:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return f"source database {self.display_url} {what}: {reason}"

