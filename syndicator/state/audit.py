"""The audit log: every operator action, appended, read newest first by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syndicator.state.rows import inserted_id
from syndicator.state.schema import audit_log


@dataclass(frozen=True)
class Entry:
    """One recorded action."""

    id: int
    at: datetime
    actor: str
    action: str
    target_kind: str | None
    target_id: str | None
    client: str
    detail: dict[str, Any]


def record(conn: sa.Connection, *, at: datetime, account_id: int | None, actor: str,
           action: str, client: str, target_kind: str | None = None,
           target_id: str | None = None, detail: dict[str, Any] | None = None) -> int:
    return inserted_id(conn.execute(audit_log.insert().values(
        at=at, account_id=account_id, actor=actor[:320], action=action[:48],
        target_kind=target_kind, target_id=None if target_id is None else target_id[:191],
        client=client[:64], detail=detail or {})))


def page(conn: sa.Connection, limit: int, before: int | None = None, *,
         target: tuple[str, str] | None = None, actor: str | None = None) -> list[Entry]:
    """Newest first, `limit` rows older than id `before`; optionally one target or actor."""
    query = sa.select(audit_log.c.id, audit_log.c.at, audit_log.c.actor, audit_log.c.action,
                      audit_log.c.target_kind, audit_log.c.target_id, audit_log.c.client,
                      audit_log.c.detail).order_by(audit_log.c.id.desc()).limit(limit)
    if before is not None:
        query = query.where(audit_log.c.id < before)
    if target is not None:
        query = query.where(audit_log.c.target_kind == target[0],
                            audit_log.c.target_id == target[1])
    if actor:
        query = query.where(audit_log.c.actor == actor)
    return [Entry(*r) for r in conn.execute(query)]
