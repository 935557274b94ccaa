"""Operator accounts, their sessions and sign-in attempts (the console's own tables)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from syndicator.state.rows import inserted_id
from syndicator.state.schema import login_attempts, operator_accounts, operator_sessions


@dataclass(frozen=True)
class Account:
    """A stored operator account (the hash stays in the store's callers that need it)."""

    id: int
    email: str
    role: str
    active: bool
    password_hash: str
    created_at: datetime
    last_sign_in_at: datetime | None


@dataclass(frozen=True)
class SessionRow:
    """A stored session and the account it belongs to."""

    id: int
    account: Account
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None


_ACCOUNT_COLS = (operator_accounts.c.id, operator_accounts.c.email, operator_accounts.c.role,
                 operator_accounts.c.active, operator_accounts.c.password_hash,
                 operator_accounts.c.created_at, operator_accounts.c.last_sign_in_at)


def _account(row: Sequence[Any]) -> Account:
    return Account(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6])


def any_account(conn: sa.Connection) -> bool:
    return bool(conn.scalar(sa.select(sa.exists().where(operator_accounts.c.id.is_not(None)))))


def account_by_email(conn: sa.Connection, key: str) -> Account | None:
    row = conn.execute(sa.select(*_ACCOUNT_COLS)
                       .where(operator_accounts.c.email_key == key)).first()
    return _account(row) if row else None


def accounts(conn: sa.Connection) -> list[Account]:
    rows = conn.execute(sa.select(*_ACCOUNT_COLS).order_by(operator_accounts.c.email_key))
    return [_account(r) for r in rows]


def insert_account(conn: sa.Connection, email: str, key: str, role: str, password_hash: str,
                   now: datetime) -> int:
    return inserted_id(conn.execute(operator_accounts.insert().values(
        email=email, email_key=key, role=role, password_hash=password_hash, active=True,
        created_at=now, updated_at=now)))


def update_account(conn: sa.Connection, account_id: int, now: datetime, **values: object) -> None:
    """Change role, password hash, active or last sign-in (only the columns given)."""
    conn.execute(operator_accounts.update().where(operator_accounts.c.id == account_id)
                 .values(updated_at=now, **values))


def insert_session(conn: sa.Connection, token_hash: str, account_id: int, client: str,
                   now: datetime, expires_at: datetime) -> int:
    return inserted_id(conn.execute(operator_sessions.insert().values(
        token_hash=token_hash, account_id=account_id, client=client[:64], created_at=now,
        last_seen_at=now, expires_at=expires_at)))


def session_by_hash(conn: sa.Connection, token_hash: str) -> SessionRow | None:
    s = operator_sessions
    row = conn.execute(sa.select(s.c.id, s.c.created_at, s.c.last_seen_at, s.c.expires_at,
                                 s.c.ended_at, *_ACCOUNT_COLS)
                       .join(operator_accounts, operator_accounts.c.id == s.c.account_id)
                       .where(s.c.token_hash == token_hash)).first()
    if row is None:
        return None
    return SessionRow(row[0], _account(row[5:]), row[1], row[2], row[3], row[4])


def touch_session(conn: sa.Connection, session_id: int, now: datetime) -> None:
    conn.execute(operator_sessions.update().where(operator_sessions.c.id == session_id,
                                                  operator_sessions.c.ended_at.is_(None))
                 .values(last_seen_at=now))


def end_sessions(conn: sa.Connection, now: datetime, *, session_id: int | None = None,
                 account_id: int | None = None) -> int:
    """End one session, or every open session of an account; how many ended."""
    query = operator_sessions.update().where(operator_sessions.c.ended_at.is_(None))
    if session_id is not None:
        query = query.where(operator_sessions.c.id == session_id)
    if account_id is not None:
        query = query.where(operator_sessions.c.account_id == account_id)
    return conn.execute(query.values(ended_at=now)).rowcount


def record_attempt(conn: sa.Connection, key: str, client: str, ok: bool, now: datetime) -> None:
    conn.execute(login_attempts.insert().values(at=now, account_key=key[:320],
                                                client=client[:64], ok=ok))


def failures_since(conn: sa.Connection, since: datetime, *, key: str | None = None,
                   client: str | None = None) -> int:
    """Failed attempts since `since` for an account key or a client (one of the two)."""
    query = sa.select(sa.func.count()).select_from(login_attempts).where(
        login_attempts.c.at >= since, login_attempts.c.ok == sa.false())
    if key is not None:
        query = query.where(login_attempts.c.account_key == key)
    if client is not None:
        query = query.where(login_attempts.c.client == client[:64])
    return int(conn.scalar(query) or 0)


def last_success(conn: sa.Connection, key: str) -> datetime | None:
    """When this account last signed in (failures before it no longer count)."""
    found: datetime | None = conn.scalar(sa.select(sa.func.max(login_attempts.c.at)).where(
        login_attempts.c.account_key == key, login_attempts.c.ok == sa.true()))
    return found


def forget_attempts(conn: sa.Connection, before: datetime) -> None:
    """Attempts older than every window: they decide nothing any more."""
    conn.execute(login_attempts.delete().where(login_attempts.c.at < before))


def purge_sessions(conn: sa.Connection, before: datetime) -> None:
    """Sessions that ended or expired long ago (kept a while for the audit's sake)."""
    ended = sa.or_(operator_sessions.c.ended_at < before, operator_sessions.c.expires_at < before)
    conn.execute(operator_sessions.delete().where(ended))


def window_start(now: datetime, minutes: int) -> datetime:
    return now - timedelta(minutes=minutes)
