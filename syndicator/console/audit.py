"""The audit log's use: record an operator action with who, what, when and from where; read it."""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from syndicator.console.roles import ADMIN, Actor
from syndicator.state import audit as store
from syndicator.state.audit import Entry

log = structlog.get_logger(__name__)


def cli_actor() -> Actor:
    """The command line: trusted like an admin (it can read the database anyway)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        user = "?"
    return Actor(None, "cli", ADMIN, f"cli:{user}@{socket.gethostname()}"[:64])


def record(conn: sa.Connection, actor: Actor, action: str, *, target_kind: str | None = None,
           target_id: object = None, detail: dict[str, Any] | None = None,
           now: datetime | None = None) -> None:
    """One entry, in the caller's transaction: the action and its record commit together."""
    store.record(conn, at=now or datetime.now(UTC), account_id=actor.account_id,
                 actor=actor.email, action=action, client=actor.client,
                 target_kind=target_kind,
                 target_id=None if target_id is None else str(target_id), detail=detail)
    # Who and what, never the detail: it may hold addresses of people other than the actor.
    log.info("console.audit", action=action, actor_id=actor.account_id, target=target_kind)


def record_alone(engine: Engine, actor: Actor, action: str, **kw: Any) -> None:
    """An entry for an action that changes nothing else (a sign-in, an export)."""
    with engine.begin() as conn:
        record(conn, actor, action, **kw)


def entries(engine: Engine, limit: int, before: int | None = None, *,
            target: tuple[str, str] | None = None, actor: str | None = None) -> list[Entry]:
    with engine.connect() as conn:
        return store.page(conn, limit, before, target=target, actor=actor)
