"""Signing in and out: failed attempts limited per account and per client, sessions kept in the
database behind a signed random id, idle and absolute timeouts, a CSRF token per session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy.engine import Engine

from syndicator.config.console import ConsoleSettings
from syndicator.console import audit, passwords
from syndicator.console.roles import Actor
from syndicator.errors import SyndicatorError
from syndicator.models.subscriber import email_key
from syndicator.state import operators as store
from syndicator.telemetry import metrics

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often per session
KEEP_ENDED = timedelta(days=30)  # ended sessions stay this long (the audit names them)


class SignInRefused(SyndicatorError):
    """Why a sign-in failed: 'credentials' (one answer for a wrong address or password, or a
    disabled account) or 'rate_limited'."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"sign-in refused ({reason})")
        self.reason = reason


@dataclass(frozen=True)
class Current:
    """A valid session: whose, from where it acts, and the token its forms carry."""

    session_id: int
    actor: Actor
    csrf: str
    cookie: str


class Sessions:
    """Sign-in, the session a cookie names, sign-out. `secret` is the program's secret key."""

    def __init__(self, engine: Engine, settings: ConsoleSettings, secret: str) -> None:
        self._engine = engine
        self._s = settings
        self._signer = Signer(secret, salt="syndicator.admin-session")
        self._csrf_key = hashlib.sha256(f"syndicator.admin-csrf:{secret}".encode()).digest()

    def sign_in(self, email: str, password: str, client: str, now: datetime,
                replacing: str | None = None) -> Current:
        """A new session (never the one the browser brought: no fixation), or SignInRefused."""
        key = email_key(email.strip())[:320]
        if self._over_limit(key, client, now):
            self._failed(key, client, now, "rate_limited")
            raise SignInRefused("rate_limited")
        with self._engine.connect() as conn:
            account = store.account_by_email(conn, key)
        ok = passwords.verify(account.password_hash if account else None, password)
        if account is None or not ok or not account.active:
            self._failed(key, client, now, "credentials")
            raise SignInRefused("credentials")
        if replacing:
            self.sign_out_cookie(replacing, now)
        return self._open(account, client, now, password)

    def _over_limit(self, key: str, client: str, now: datetime) -> bool:
        since = store.window_start(now, self._s.login_window_minutes)
        with self._engine.connect() as conn:
            last_ok = store.last_success(conn, key)
            by_account = store.failures_since(conn, max(since, last_ok or since), key=key)
            by_client = store.failures_since(conn, since, client=client)
        return (by_account >= self._s.login_failures_per_account
                or by_client >= self._s.login_failures_per_client)

    def _failed(self, key: str, client: str, now: datetime, reason: str) -> None:
        metrics.console_sign_in(reason)
        with self._engine.begin() as conn:
            store.record_attempt(conn, key, client, False, now)
            account = store.account_by_email(conn, key)
            who = Actor(account.id if account else None, key, "", client)
            audit.record(conn, who, "sign_in.refused", target_kind="account",
                         target_id=account.id if account else None, detail={"reason": reason},
                         now=now)

    def _open(self, account: store.Account, client: str, now: datetime,
              password: str) -> Current:
        raw = secrets.token_urlsafe(32)
        expires = now + timedelta(hours=self._s.session_max_hours)
        rehash = passwords.needs_rehash(account.password_hash)
        with self._engine.begin() as conn:
            store.record_attempt(conn, account.email.casefold(), client, True, now)
            store.forget_attempts(conn, now - timedelta(days=1))
            store.purge_sessions(conn, now - KEEP_ENDED)
            session_id = store.insert_session(conn, _digest(raw), account.id, client, now, expires)
            changes: dict[str, object] = {"last_sign_in_at": now}
            if rehash:  # the hasher's parameters moved on since this password was set
                changes["password_hash"] = passwords.hash_password(password)
            store.update_account(conn, account.id, now, **changes)
            actor = Actor(account.id, account.email, account.role, client)
            audit.record(conn, actor, "sign_in", target_kind="session", target_id=session_id,
                         now=now)
        metrics.console_sign_in("ok")
        return Current(session_id, actor, self._csrf(raw), self._signer.sign(raw).decode())

    def current(self, cookie: str | None, client: str, now: datetime) -> Current | None:
        """The live session this cookie names, or None (forged, ended, idle or too old)."""
        raw = self._unsign(cookie)
        if raw is None:
            return None
        with self._engine.connect() as conn:
            row = store.session_by_hash(conn, _digest(raw))
        if row is None or row.ended_at is not None or not row.account.active:
            return None
        idle = now - row.last_seen_at > timedelta(minutes=self._s.session_idle_minutes)
        if idle or now >= row.expires_at:
            with self._engine.begin() as conn:
                store.end_sessions(conn, now, session_id=row.id)
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            with self._engine.begin() as conn:
                store.touch_session(conn, row.id, now)
        actor = Actor(row.account.id, row.account.email, row.account.role, client)
        return Current(row.id, actor, self._csrf(raw), cookie or "")

    def sign_out(self, current: Current, now: datetime) -> None:
        with self._engine.begin() as conn:
            store.end_sessions(conn, now, session_id=current.session_id)
            audit.record(conn, current.actor, "sign_out", target_kind="session",
                         target_id=current.session_id, now=now)

    def sign_out_cookie(self, cookie: str, now: datetime) -> None:
        """End whatever session a cookie names (the one a browser had before signing in)."""
        raw = self._unsign(cookie)
        if raw is None:
            return
        with self._engine.begin() as conn:
            row = store.session_by_hash(conn, _digest(raw))
            if row is not None:
                store.end_sessions(conn, now, session_id=row.id)

    def csrf_ok(self, current: Current, token: str) -> bool:
        return hmac.compare_digest(current.csrf.encode(), (token or "").encode())

    def _csrf(self, raw: str) -> str:
        return hmac.new(self._csrf_key, raw.encode(), hashlib.sha256).hexdigest()

    def _unsign(self, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > 200:
            return None
        try:
            return self._signer.unsign(cookie).decode()
        except BadSignature:
            return None


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
