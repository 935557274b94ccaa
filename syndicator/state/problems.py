"""Portal rows skipped now (the source_problems table): written by each poll, read by operators."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syndicator.errors import RowError
from syndicator.state.schema import source_problems as table

_CHUNK = 500
AnyRow = sa.Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class Problem:
    """One portal row skipped now, as an operator sees it."""

    source_id: str  # "" when the row has no readable id
    field: str
    reason: str
    problem: str
    first_seen_at: datetime
    last_seen_at: datetime


def ref(error: RowError) -> str:
    """One entry per portal row; rows without an id are grouped by what is wrong with them."""
    key = error.source_id if error.source_id else f"\0{error.field}\0{error.problem}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def record(conn: sa.Connection, errors: Sequence[RowError], now: datetime) -> list[RowError]:
    """Add or refresh each row's entry; returns the rows that are new here or changed problem
    (what is worth a log line: the rest were reported before)."""
    latest = {ref(e): e for e in errors}
    known = {r.ref: (r.field, r.problem) for r in _rows(conn, list(latest))}
    fresh: list[RowError] = []
    for key, e in latest.items():
        values = {"source_id": e.source_id[:200], "field": e.field[:32],
                  "reason": e.reason[:32], "problem": e.problem[:500], "last_seen_at": now}
        if key in known:
            conn.execute(table.update().where(table.c.ref == key).values(**values))
            if known[key] != (values["field"], values["problem"]):
                fresh.append(e)
        else:
            conn.execute(table.insert().values(ref=key, first_seen_at=now, **values))
            fresh.append(e)
    return fresh


def resolve(conn: sa.Connection, source_ids: Iterable[str]) -> None:
    """Rows read well again leave the list (a cheap no-op while the list is empty)."""
    if conn.scalar(sa.select(table.c.ref).limit(1)) is None:
        return
    refs = [ref(RowError(sid, "", "")) for sid in source_ids if sid]
    for start in range(0, len(refs), _CHUNK):
        conn.execute(table.delete().where(table.c.ref.in_(refs[start:start + _CHUNK])))


def prune(conn: sa.Connection, before: datetime) -> int:
    """Forget rows not met since `before` (deleted or fixed in a part no poll re-read)."""
    return conn.execute(table.delete().where(table.c.last_seen_at < before)).rowcount


def current(conn: sa.Connection) -> list[Problem]:
    """Every row skipped now, most recently met first."""
    rows = conn.execute(sa.select(table).order_by(table.c.last_seen_at.desc(),
                                                  table.c.source_id))
    return [Problem(r.source_id, r.field, r.reason, r.problem, r.first_seen_at,
                    r.last_seen_at) for r in rows]


def counts(conn: sa.Connection) -> dict[str, int]:
    """How many rows are skipped now, by reason."""
    rows = conn.execute(sa.select(table.c.reason, sa.func.count()).group_by(table.c.reason))
    return {reason: int(n) for reason, n in rows}


def _rows(conn: sa.Connection, refs: list[str]) -> list[AnyRow]:
    found: list[AnyRow] = []
    for start in range(0, len(refs), _CHUNK):
        found += conn.execute(sa.select(table.c.ref, table.c.field, table.c.problem)
                              .where(table.c.ref.in_(refs[start:start + _CHUNK]))).all()
    return found
