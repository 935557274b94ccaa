"""Operator accounts: created, re-keyed and disabled from the command line, each step audited."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.console import audit, passwords
from syndicator.console.roles import ROLES, Actor
from syndicator.errors import UsageError
from syndicator.models.subscriber import email_key
from syndicator.state import operators as store
from syndicator.state.operators import Account
from syndicator.subscribers.rules import InvalidField, normalize_email


def _now() -> datetime:
    return datetime.now(UTC)


def _address(email: str) -> str:
    try:
        return normalize_email(email)
    except InvalidField as exc:
        raise UsageError(str(exc)) from None


def add_user(engine: Engine, email: str, role: str, password: str, actor: Actor) -> Account:
    """A new account (UsageError when the address has one, or the role or password is bad)."""
    address = _address(email)
    if role not in ROLES:
        raise UsageError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    passwords.check_rules(address, password)
    hashed = passwords.hash_password(password)
    with engine.begin() as conn:
        if store.account_by_email(conn, email_key(address)) is not None:
            raise UsageError(f"{address} already has an account (use `admin set-password`)")
        try:
            with conn.begin_nested():
                new_id = store.insert_account(conn, address, email_key(address), role, hashed,
                                              _now())
        except sa.exc.IntegrityError:
            raise UsageError(f"{address} already has an account") from None
        audit.record(conn, actor, "account.added", target_kind="account", target_id=new_id,
                     detail={"email": address, "role": role})
        return _get(conn, address)


def set_password(engine: Engine, email: str, password: str, actor: Actor) -> Account:
    """A new password; every session of the account ends (a stolen one with it)."""
    address = _address(email)
    passwords.check_rules(address, password)
    hashed = passwords.hash_password(password)
    with engine.begin() as conn:
        account = _get(conn, address)
        now = _now()
        store.update_account(conn, account.id, now, password_hash=hashed)
        ended = store.end_sessions(conn, now, account_id=account.id)
        audit.record(conn, actor, "account.password_set", target_kind="account",
                     target_id=account.id, detail={"sessions_ended": ended})
        return _get(conn, address)


def set_role(engine: Engine, email: str, role: str, actor: Actor) -> Account:
    if role not in ROLES:
        raise UsageError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    with engine.begin() as conn:
        account = _get(conn, _address(email))
        store.update_account(conn, account.id, _now(), role=role)
        audit.record(conn, actor, "account.role_set", target_kind="account",
                     target_id=account.id, detail={"from": account.role, "to": role})
        return _get(conn, account.email)


def set_active(engine: Engine, email: str, active: bool, actor: Actor) -> Account:
    """Disable (every session ends at once) or enable an account."""
    with engine.begin() as conn:
        account = _get(conn, _address(email))
        now = _now()
        store.update_account(conn, account.id, now, active=active)
        ended = 0 if active else store.end_sessions(conn, now, account_id=account.id)
        audit.record(conn, actor, "account.enabled" if active else "account.disabled",
                     target_kind="account", target_id=account.id,
                     detail={"sessions_ended": ended})
        return _get(conn, account.email)


def list_users(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        return store.accounts(conn)


def enabled(engine: Engine) -> bool:
    """The console is off until an account exists."""
    with engine.connect() as conn:
        return store.any_account(conn)


def _get(conn: sa.Connection, address: str) -> Account:
    account = store.account_by_email(conn, email_key(address))
    if account is None:
        raise UsageError(f"no account for {address}")
    return account
