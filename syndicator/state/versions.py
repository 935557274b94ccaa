"""Versions of bulletins worth telling readers about (corrections and withdrawals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from syndicator.models.correction import Substance
from syndicator.state.schema import bulletin_versions as v

_CHUNK = 500


@dataclass(frozen=True)
class Version:
    bulletin_id: int
    version: int
    state: str  # public | withdrawn
    title: str
    lead: str
    text: str
    created_at: datetime

    @property
    def substance(self) -> Substance:
        return Substance(self.title, self.lead, self.text)


_COLS = (v.c.bulletin_id, v.c.version, v.c.state, v.c.title, v.c.lead, v.c.text, v.c.created_at)


def latest(conn: sa.Connection, bulletin_id: int) -> Version | None:
    row = conn.execute(sa.select(*_COLS).where(v.c.bulletin_id == bulletin_id)
                       .order_by(v.c.version.desc()).limit(1)).first()
    return Version(*row) if row is not None else None


def get(conn: sa.Connection, bulletin_id: int, version: int) -> Version | None:
    row = conn.execute(sa.select(*_COLS).where(v.c.bulletin_id == bulletin_id,
                                               v.c.version == version)).first()
    return Version(*row) if row is not None else None


def insert(conn: sa.Connection, bulletin_id: int, version: int, state: str, s: Substance,
           created_at: datetime) -> Version:
    conn.execute(v.insert().values(bulletin_id=bulletin_id, version=version, state=state,
                                   fingerprint=s.fingerprint, title=s.title, lead=s.lead,
                                   text=s.text, created_at=created_at))
    return Version(bulletin_id, version, state, s.title, s.lead, s.text, created_at)


def timeline(conn: sa.Connection, bulletin_id: int) -> list[tuple[datetime, int]]:
    """(created_at, version) of every recorded version, oldest first."""
    rows = conn.execute(sa.select(v.c.created_at, v.c.version)
                        .where(v.c.bulletin_id == bulletin_id).order_by(v.c.version))
    return [(r[0], int(r[1])) for r in rows]


def current_at(timeline: list[tuple[datetime, int]], when: datetime) -> int:
    """The version a mail made at `when` showed (1 before any correction was recorded)."""
    return max((n for at, n in timeline if at <= when), default=1)


def unplanned(conn: sa.Connection, limit: int = 200) -> list[Version]:
    """Corrections and withdrawals whose notices are still to be planned, oldest first."""
    rows = conn.execute(sa.select(*_COLS).where(v.c.planned_at.is_(None), v.c.version > 1)
                        .order_by(v.c.created_at, v.c.id).limit(limit))
    return [Version(*r) for r in rows]


def mark_planned(conn: sa.Connection, version: Version, now: datetime) -> bool:
    """Claims the planning of one version: False when another process did it first."""
    done = conn.execute(v.update().where(v.c.bulletin_id == version.bulletin_id,
                                         v.c.version == version.version,
                                         v.c.planned_at.is_(None)).values(planned_at=now))
    return done.rowcount == 1


def latest_of(conn: sa.Connection, bulletin_ids: Sequence[int]) -> dict[int, Version]:
    """The newest recorded version of each of these bulletins that has a correction."""
    out: dict[int, Version] = {}
    for start in range(0, len(bulletin_ids), _CHUNK):
        chunk = list(bulletin_ids[start:start + _CHUNK])
        newest = (sa.select(v.c.bulletin_id, sa.func.max(v.c.version).label("n"))
                  .where(v.c.bulletin_id.in_(chunk)).group_by(v.c.bulletin_id)
                  .having(sa.func.max(v.c.version) > 1).subquery())
        rows = conn.execute(sa.select(*_COLS).join(newest, sa.and_(
            v.c.bulletin_id == newest.c.bulletin_id, v.c.version == newest.c.n)))
        out |= {r.bulletin_id: Version(*r) for r in rows}
    return out
