"""What reflection tells us about the portal's table, and which reads are cheap on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mssql

from syndicator.source.values import as_text, sorts_as_time

TIMESTAMPS = ("published_at", "updated_at")
_SAMPLE = 50  # newest rows whose text timestamps decide whether string order is time order


@dataclass(frozen=True)
class Shape:
    """How to bind ids and timestamps for this table, and which reads stay bounded."""

    cols: Mapping[str, sa.ColumnClause[Any]]  # our field -> the portal's column
    int_ids: bool
    ts_kind: Mapping[str, str]  # field -> "aware" | "naive" | "text"
    # Timestamp fields the time window may filter on (empty: no window query at all).
    window: tuple[str, ...]
    # New rows can be paged by id (`id > highest seen`): integer ids with an index.
    pages_new_ids: bool
    text_sep: Mapping[str, str]  # field -> date/time separator of ISO text


def timestamp_kind(col_type: Any, dialect: str) -> str:
    """How to bind a bound for this column: "aware", "naive" (wall clock in tz) or "text"."""
    if dialect == "sqlite" or not isinstance(col_type, sa.DateTime):
        return "text"
    # SQL Server reflects DATETIMEOFFSET with timezone=False, yet every value carries its offset.
    if isinstance(col_type, mssql.DATETIMEOFFSET) or getattr(col_type, "timezone", False):
        return "aware"
    return "naive"


def indexed_columns(inspector: sa.Inspector, table: str, schema: str | None) -> set[str]:
    """Columns that lead an index, the primary key or a unique constraint (a range can use it)."""
    leading: list[Sequence[str | None]] = [
        inspector.get_pk_constraint(table, schema=schema)["constrained_columns"]]
    leading += [ix["column_names"] for ix in inspector.get_indexes(table, schema=schema)]
    try:
        leading += [uq["column_names"]
                    for uq in inspector.get_unique_constraints(table, schema=schema)]
    except NotImplementedError:
        pass
    return {cols[0] for cols in leading if cols and cols[0]}


def window_fields(kinds: Mapping[str, str], sortable_text: set[str], indexed: set[str],
                  pages_new_ids: bool) -> tuple[str, ...]:
    """The timestamps a bounded window can use.

    Text is usable only where string order is time order (ISO). Without an index the window
    is a scan of the whole table; we accept one only when nothing else finds new rows (no
    integer id to page), and otherwise leave edits to the hot set and the sweeps.
    """
    usable = [f for f, kind in kinds.items() if kind != "text" or f in sortable_text]
    if pages_new_ids:
        usable = [f for f in usable if f in indexed]
    return tuple(usable)


def sample_text_timestamps(conn: sa.Connection, cols: Mapping[str, sa.ColumnClause[Any]],
                           fields: list[str]) -> dict[str, list[str]]:
    """The non-empty values of text timestamp columns in the newest rows (by id)."""
    query = (sa.select(*[cols[f].label(f) for f in fields])
             .order_by(cols["id"].desc()).limit(_SAMPLE))
    rows = conn.execute(query).mappings().all()
    values = {f: [_text(r[f]) for r in rows] for f in fields}
    return {f: [v for v in vs if v.strip()] for f, vs in values.items()}


def _text(value: object) -> str:
    """A sampled value as text; one that is not text counts as empty (its row is reported
    when it is read)."""
    try:
        return as_text(value) or ""
    except ValueError:
        return ""


def iso_separators(samples: Mapping[str, list[str]]) -> dict[str, str]:
    """Fields whose sampled text all sorts as time, with the one date/time separator they use.

    A field mixing 'T' and ' ' is left out: ' ' < 'T', so against a 'T' bound its values with a
    space on the bound's date would compare as earlier and fall outside the window.
    """
    out: dict[str, str] = {}
    for field, values in samples.items():
        if not values or not all(sorts_as_time(v) for v in values):
            continue
        seps = {v[10] for v in values if len(v) > 10}  # date-only values fit either
        if len(seps) <= 1:
            out[field] = seps.pop() if seps else " "
    return out
