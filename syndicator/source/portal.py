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
from syndicator.errors import SourceError, SourceSchemaError
from syndicator.models.text import one_line
from syndicator.source import shape as shapes
from syndicator.source.shape import Shape
from syndicator.source.values import as_text, local_naive

log = structlog.get_logger(__name__)

FIELDS = ("id", "title", "summary", "body_html", "author", "category", "url",
          "published_at", "updated_at", "status")
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


def source_row(values: Mapping[str, Any]) -> SourceRow:
    """The one place a portal id is normalised (CHAR padding, NFD, stray control characters)."""
    if isinstance(values["id"], int):  # most portals; this runs for every key read
        return SourceRow(str(values["id"]), values)
    raw = as_text(values["id"]) or ""
    source_id = one_line(raw)
    return SourceRow(source_id, values, None if raw == source_id else raw)


class PortalSource:
    """Queries whose cost depends on what changed, never on the size of the table."""

    def __init__(self, settings: SourceSettings, tz: ZoneInfo, engine: Engine | None = None):
        self._settings = settings
        self._tz = tz
        self._engine = engine or create_engine(
            settings.url.get_secret_value(), "source.url", read_only=True)
        self._shape: Shape | None = None
        self.display_url = redacted(settings.url.get_secret_value())

    @property
    def engine(self) -> Engine:
        return self._engine

    def describe(self) -> Shape:
        """Reflect the table once; a missing table or mapped column is a SourceSchemaError."""
        if self._shape is None:
            self._shape = self._reflect()
            log.info("source.described", table=self._settings.table,
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
        return self._fetch(self._select(shape).where(sa.or_(*conds))) if conds else []

    def newest_key(self) -> str | None:
        """The highest id in the table (an index lookup where new ids can be paged)."""
        shape = self.describe()
        with self._connect() as conn:
            newest = conn.scalar(sa.select(sa.func.max(shape.cols["id"])))
        return None if newest is None else str(newest)

    def by_ids(self, keys: Sequence[str], keys_only: bool = False) -> list[SourceRow]:
        """The rows with these keys (SourceRow.key) that still exist (KEY_FIELDS if keys_only)."""
        shape = self.describe()
        rows: list[SourceRow] = []
        for start in range(0, len(keys), _BATCH):
            chunk = [self._bind_id(shape, i) for i in keys[start:start + _BATCH]]
            query = self._select(shape, keys_only).where(shape.cols["id"].in_(chunk))
            rows += self._fetch(query)
        return rows

    def after(self, cursor: str | None, limit: int, keys_only: bool = False) -> list[SourceRow]:
        """The next `limit` rows in id order after the key `cursor` (keyset paging)."""
        shape = self.describe()
        query = self._select(shape, keys_only).order_by(shape.cols["id"]).limit(limit)
        if cursor is not None:
            query = query.where(shape.cols["id"] > self._bind_id(shape, cursor))
        return self._fetch(query)

    def all_rows(self, batch: int = 1000, after: str | None = None,
                 keys_only: bool = False) -> Iterator[list[SourceRow]]:
        """Every row past the key `after` (None: from the start), a batch at a time by id.

        A short batch is the last: no empty query to learn that.
        """
        cursor = after
        while rows := self.after(cursor, batch, keys_only):
            yield rows
            if len(rows) < batch:
                break
            cursor = rows[-1].key

    def ping(self) -> None:
        """Connect and read the table's shape; raise SourceError naming what failed."""
        self._shape = None
        self.describe()

    @staticmethod
    def _select(shape: Shape, keys_only: bool = False) -> sa.Select[Any]:
        fields = [f for f in shape.cols if not keys_only or f in KEY_FIELDS]
        return sa.select(*[shape.cols[f].label(f) for f in fields])

    def _fetch(self, query: sa.Select[Any]) -> list[SourceRow]:
        with self._connect() as conn:
            result = conn.execute(query).mappings().all()
        return [source_row(dict(r)) for r in result]

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa.exc.DBAPIError as exc:
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
        with self._connect() as conn:
            samples = shapes.sample_text_timestamps(conn, cols, text_fields)
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
        return int(source_id) if shape.int_ids else source_id

    def _failure(self, what: str, exc: Exception) -> str:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return f"source database {self.display_url} {what}: {reason}"
