"""A source defined by a query: the operator's SELECT, wrapped so every poll read stays bounded.

Every read of the poll (window, ids, hot set, sweeps) is `SELECT ... FROM (<query>) AS src
WHERE ...`: PostgreSQL and MariaDB merge such a derived table into the outer query (or push
the conditions into it), so `src.id > :cursor ORDER BY src.id LIMIT n` uses the portal's
primary key as it would on a table (ADR 017).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.errors import SourceError, SourceSchemaError
from syndicator.source import shape as shapes
from syndicator.source.shape import Shape

REQUIRED = ("id", "title", "url", "published_at", "status")
ATTACHMENT_LABELS = ("bulletin_id", "url", "title", "size", "type")
_PROBE_PREFIX = "SELECT * FROM ("
# A ':word' that sa.text would take for a bind parameter ('00:00' and 's:8:' are not).
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


def as_text_clause(query: str) -> sa.TextClause:
    """The operator's SQL as it is: a colon never becomes a bind parameter."""
    return sa.text(_BIND.sub(r"\\:\1", query))


def labels_of(engine: Engine, query: str, setting: str) -> list[str]:
    """The column labels of `query` (lower case), read without fetching a row.

    Raises SourceSchemaError naming the setting, the database's reason and, where the
    database says it, the line and column in the query.
    """
    probe = f"{_PROBE_PREFIX}{query}\n) src WHERE 1=0"
    try:
        with engine.connect() as conn:
            keys = list(conn.execute(as_text_clause(probe)).keys())
    except sa.exc.OperationalError as exc:
        if exc.connection_invalidated or _unreachable(exc):
            raise SourceError(f"source database is unreachable: {_reason(exc)}") from None
        raise SourceSchemaError(f"{setting} fails: {_reason(exc)}{_where(exc, query)}") from None
    except sa.exc.DBAPIError as exc:
        raise SourceSchemaError(f"{setting} fails: {_reason(exc)}{_where(exc, query)}") from None
    return [str(k).lower() for k in keys]


def derived(query: str, labels: Sequence[str], name: str) -> sa.Subquery:
    """The query as a table the poll's reads select from."""
    return as_text_clause(query).columns(*[sa.column(k) for k in labels]).subquery(name)


def describe(engine: Engine, query: str, fields: Sequence[str],
             indexed: Sequence[str]) -> Shape:
    """The shape of a query source: the labels it has, how ids and timestamps bind (from a
    sample of its newest rows) and which reads are cheap (`indexed`: source.indexed_fields)."""
    labels = labels_of(engine, query, "source.query")
    missing = [f for f in REQUIRED if f not in labels]
    if missing:
        raise SourceSchemaError(
            f"source.query has no column labelled {', '.join(map(repr, missing))} "
            f"(it has: {', '.join(labels) or 'none'}); label them AS {', '.join(missing)}")
    src = derived(query, labels, "src")
    cols: dict[str, Any] = {f: src.c[f] for f in fields if f in labels}
    sample = _sample(engine, cols)
    int_ids = bool(sample["id"]) and all(_is_int(v) for v in sample["id"])
    kinds = {f: _kind(sample[f]) for f in shapes.TIMESTAMPS if f in cols}
    iso_text = shapes.iso_separators(
        {f: [v.strip() for v in sample[f] if isinstance(v, str) and v.strip()]
         for f, kind in kinds.items() if kind == "text"})
    window = shapes.window_fields(kinds, set(iso_text), set(indexed), int_ids)
    return Shape(cols=cols, int_ids=int_ids, ts_kind=kinds, pages_new_ids=int_ids,
                 window=window, text_sep=iso_text)


def attachments_source(engine: Engine, query: str) -> sa.Subquery:
    """source.attachments_query as a table; raises SourceSchemaError naming missing labels."""
    labels = labels_of(engine, query, "source.attachments_query")
    missing = [f for f in ("bulletin_id", "url") if f not in labels]
    if missing:
        raise SourceSchemaError(
            f"source.attachments_query has no column labelled {', '.join(map(repr, missing))} "
            f"(it has: {', '.join(labels) or 'none'})")
    return derived(query, [k for k in labels if k in ATTACHMENT_LABELS], "att")


def _sample(engine: Engine, cols: Mapping[str, sa.ColumnElement[Any]]) -> dict[str, list[Any]]:
    """id and timestamps of the newest rows (by id): what decides how to bind them."""
    fields = ["id", *[f for f in shapes.TIMESTAMPS if f in cols]]
    query = (sa.select(*[cols[f].label(f) for f in fields])
             .order_by(cols["id"].desc()).limit(50))
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
    except sa.exc.DBAPIError as exc:
        raise SourceSchemaError(f"source.query fails: {_reason(exc)}") from None
    return {f: [r[f] for r in rows if r[f] is not None] for f in fields}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(values: Sequence[object]) -> str:
    """"aware", "naive" or "text", as shape.timestamp_kind says for a reflected column."""
    if values and all(isinstance(v, datetime) for v in values):
        return "aware" if all(v.tzinfo for v in values if isinstance(v, datetime)) else "naive"
    if values and all(isinstance(v, date) for v in values):
        return "naive"
    return "text"


def _reason(exc: sa.exc.DBAPIError) -> str:
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def _unreachable(exc: sa.exc.DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(w in text for w in ("connect", "timeout", "refused", "resolve"))


def _where(exc: sa.exc.DBAPIError, query: str) -> str:
    """' (line L, column C of the query)' where the database gives a position (PostgreSQL)."""
    position = getattr(getattr(exc.orig, "diag", None), "statement_position", None)
    if not position:
        return ""
    offset = int(position) - 1 - len(_PROBE_PREFIX)
    if not 0 <= offset <= len(query):
        return ""
    before = query[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return f" (line {line}, column {column} of the query)"
