"""Reading portal rows so that one value a driver cannot convert costs its row, not the read."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.errors import RowError
from syndicator.source.values import as_text, decode_sqlite_text

if TYPE_CHECKING:
    from syndicator.source.portal import SourceRow

Connect = Callable[[], AbstractContextManager[sa.Connection]]


@dataclass(frozen=True)
class Page:
    """Rows of one keyset page: the readable ones, and where the next page starts."""

    rows: list[SourceRow]
    after: str | None  # the last id read (good row or not); None when the page had none
    full: bool  # as many rows as asked for: there may be more


class Unreadable(Exception):
    """The driver could not convert a value of some row (not a lost connection)."""


@dataclass(frozen=True)
class Read:
    """The rows of a query that could be read, and the id of every row it met, in order
    (a page is full, and the next one starts, by the rows met, not by those read)."""

    rows: list[dict[str, Any]]
    ids: list[Any]


def read_rows(connect: Connect, query: sa.Select[Any], id_col: sa.ColumnClause[Any],
              skipped: list[RowError]) -> Read:
    """Every row of `query`. When the driver fails the whole fetch on a value it cannot
    convert, the ids are read alone and the rows again in halves, down to the bad row, which
    goes to `skipped`."""
    try:
        with connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings().all()]
        return Read(rows, [r["id"] for r in rows])
    except Unreadable:
        pass
    with connect() as conn:  # the same rows, without the value that failed
        ids = list(conn.scalars(query.with_only_columns(id_col.label("id"))))
    if None in ids:
        skipped.append(RowError("", "id", "is empty", reason="id"))
    keyed = query.limit(None)  # its ORDER BY stays: the halves come back in the same order
    return Read(_halves(connect, keyed, id_col, [i for i in ids if i is not None], skipped),
                ids)


def _halves(connect: Connect, query: sa.Select[Any], id_col: sa.ColumnClause[Any],
            ids: list[Any], skipped: list[RowError]) -> list[dict[str, Any]]:
    if not ids:
        return []
    try:
        with connect() as conn:
            return [dict(r) for r in conn.execute(query.where(id_col.in_(ids))).mappings()]
    except Unreadable as exc:
        if len(ids) == 1:
            skipped.append(RowError(text_or_none(ids[0]) or "", "row",
                                    f"cannot be read: {exc}", reason="encoding"))
            return []
    mid = len(ids) // 2
    return (_halves(connect, query, id_col, ids[:mid], skipped)
            + _halves(connect, query, id_col, ids[mid:], skipped))


def text_or_none(value: Any) -> str | None:
    """An id as text, for messages and cursors; None when it cannot be text."""
    if isinstance(value, int):
        return str(value)
    try:
        return as_text(value)
    except ValueError:
        return None


def is_unreadable_value(exc: sa.exc.DBAPIError) -> bool:
    """A value the driver cannot convert (SQLite's "Could not decode to UTF-8", a DataError),
    as opposed to a database that cannot be reached."""
    if exc.connection_invalidated:
        return False
    return isinstance(exc, sa.exc.DataError) or "decode" in str(exc.orig).lower()


def decode_sqlite_leniently(engine: Engine) -> None:
    """SQLite fails a whole fetch on one stray byte in a TEXT value: read such a value as
    bytes instead, so that only its row is skipped."""
    @sa.event.listens_for(engine, "connect")
    def _text_factory(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.text_factory = decode_sqlite_text
