"""Signed, purpose-scoped link tokens bound to a subscriber (itsdangerous)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from syndicator.compose.verp import Verp
from syndicator.config.settings import Settings
from syndicator.errors import SyndicatorError
from syndicator.state.schema import state_values
from syndicator.state.values import get_value

PURPOSES = ("confirm", "manage", "unsubscribe")
_SECRET_NAME = "security.secret_key"


class InvalidToken(SyndicatorError, ValueError):
    """A link token that is forged, altered, expired or meant for another purpose."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid link token ({reason})")
        self.reason = reason  # "expired" | "invalid"


@dataclass(frozen=True)
class LinkToken:
    """What a link token says: whose link, at which token version, for which request."""

    subscriber_id: int
    version: int
    request: int | None = None  # confirm links: the subscription request (consent event id)


class Tokens:
    """make() and read() tokens carrying (subscriber id, token version[, request])."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return URLSafeTimedSerializer(self._secret, salt=f"syndicator.{purpose}")

    def make(self, purpose: str, subscriber_id: int, version: int,
             request: int | None = None) -> str:
        data = [subscriber_id, version] + ([] if request is None else [request])
        return self._serializer(purpose).dumps(data)

    def read_link(self, token: str, purpose: str, max_age: int | None = None) -> LinkToken:
        """The whole token; raises InvalidToken. Confirm links mailed before requests were
        carried have no request."""
        try:
            data = self._serializer(purpose).loads(token, max_age=max_age)
        except SignatureExpired:
            raise InvalidToken("expired") from None
        except BadSignature:
            raise InvalidToken("invalid") from None
        if not (isinstance(data, list) and len(data) in (2, 3)
                and all(isinstance(x, int) for x in data)):
            raise InvalidToken("invalid")
        return LinkToken(*data)


def secret_key(settings: Settings, engine: sa.Engine) -> str:
    """security.secret_key, or one generated once and kept in the state database."""
    if settings.security.secret_key is not None:
        return settings.security.secret_key.get_secret_value()
    with engine.begin() as conn:
        existing = get_value(conn, _SECRET_NAME)
        if existing:
            return existing
        try:
            with conn.begin_nested():
                fresh = secrets.token_urlsafe(48)
                conn.execute(state_values.insert().values(
                    name=_SECRET_NAME, value=fresh, updated_at=datetime.now(UTC)))
                return fresh
        except sa.exc.IntegrityError:  # another replica generated it first
            pass
    with engine.connect() as conn:
        return get_value(conn, _SECRET_NAME) or ""


def verp_for(settings: Settings, engine: sa.Engine) -> Verp | None:
    """The signed VERP tags of `bounces.return_path` (envelope senders, mailto addresses),
    under the same secret as the links; None when no return path is set."""
    path = settings.bounces.return_path
    return Verp(path, secret_key(settings, engine)) if path else None
