"""Turns claimed deliveries into message bytes (via the digest composer) or a reason to skip."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import structlog

from syndicator.delivery.dkim_sign import make_signer
from syndicator.digests.mime import ascii_address
from syndicator.errors import PermanentError
from syndicator.links import Links
from syndicator.settings import Settings
from syndicator.state import bulletins as bulletin_store
from syndicator.state import runs as run_store
from syndicator.state.outbox import Claimed
from syndicator.state.schema import subscribers
from syndicator.tokens import Tokens, secret_key

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A claimed delivery ready to send (`data`), or to record as skipped (`skip`)."""

    claim: Claimed
    email: str  # the envelope recipient: ASCII, the domain in IDNA
    message_id: str
    data: bytes | None = None
    skip: str | None = None
    error: str | None = None  # composing failed: retried like a 4xx, then failed
    final: bool = False  # the error cannot go away by retrying (an address we cannot send to)

    @property
    def name(self) -> str:
        """The .eml file name: the Message-ID's local part, the same on every attempt."""
        return self.message_id.strip("<>").split("@", 1)[0]


def message_id_for(delivery_id: int, run_id: int, host: str) -> str:
    return f"<d{delivery_id}.r{run_id}@{host}>"


def allowed(email: str, patterns: Sequence[str]) -> bool:
    """Staging allowlist: no patterns means everyone."""
    key = email.casefold()
    return not patterns or any(fnmatch.fnmatchcase(key, p.casefold()) for p in patterns)


class Renderer:
    """Caches each digest content for the length of one sending round."""

    def __init__(self, settings: Settings, engine: sa.Engine) -> None:
        from syndicator.digests.composer import DigestComposer

        self._s = settings
        self._composer = DigestComposer(settings)
        self._links = Links(settings, Tokens(secret_key(settings, engine)))
        self._digests: dict[int, Any] = {}
        self._signer = make_signer(settings.mail)
        self.host = urlsplit(settings.base_url).hostname or "localhost"

    def prepare(self, conn: sa.Connection, claims: Sequence[Claimed], *,
                eightbit: bool = False) -> list[Prepared]:
        """Message bytes for each claim; eightbit when the transport takes 8bit bodies."""
        rows = {r.id: r for r in conn.execute(sa.select(subscribers).where(
            subscribers.c.id.in_([c.subscriber_id for c in claims])))}
        return [self._safe(conn, c, rows[c.subscriber_id], eightbit) for c in claims]

    def _safe(self, conn: sa.Connection, c: Claimed, sub: Any, eightbit: bool) -> Prepared:
        # One message that cannot be composed must not stop the others.
        try:
            return self._one(conn, c, sub, eightbit)
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery, logged
            log.error("delivery.compose_failed", delivery_id=c.id, error=repr(exc)[:300])
            reason = f"cannot compose: {exc!r}"[:400]
            return Prepared(c, sub.email, c.message_id or "", error=reason,
                            final=isinstance(exc, PermanentError))

    def _one(self, conn: sa.Connection, c: Claimed, sub: Any, eightbit: bool) -> Prepared:
        mid = c.message_id or message_id_for(c.id, c.run_id, self.host)
        if sub.status != "active" or sub.paused:
            return Prepared(c, sub.email, mid, skip=f"subscriber is {sub.status}"
                            + (" (paused)" if sub.paused else ""))
        if not allowed(sub.email, self._s.mail.allow_only):
            # Staging: one line per message held back (never a list), so testers see who.
            log.info("delivery.held_back", delivery_id=c.id, recipient=sub.email,
                     reason="mail.allow_only")
            return Prepared(c, sub.email, mid, skip="not in mail.allow_only (staging)")
        digest = self._digest(conn, c.content_id)
        if digest is None:
            return Prepared(c, sub.email, mid, skip="every bulletin of this digest was withdrawn")
        data = self._composer.message(digest, self._recipient(sub), message_id=mid,
                                      date=datetime.now(timezone.utc), eightbit=eightbit)
        if self._signer is not None:
            data = self._signer.sign(data)
        # RCPT TO takes the ASCII form: aiosmtplib cannot encode an IDN domain itself.
        return Prepared(c, ascii_address(sub.email), mid, data=data)

    def _recipient(self, sub: Any) -> Any:
        from syndicator.digests.recipients import recipient_for

        return recipient_for(sub, self._links)

    def _digest(self, conn: sa.Connection, content_id: int) -> Any:
        if content_id not in self._digests:
            self._digests[content_id] = load_digest(conn, content_id)
        return self._digests[content_id]


def load_digest(conn: sa.Connection, content_id: int) -> Any:
    """The digest as it is now: withdrawn bulletins dropped; None when none is left."""
    from syndicator.digests.composer import Digest

    row = run_store.content(conn, content_id)
    if row is None:
        return None
    found = [b for b in bulletin_store.get_many(conn, list(row.bulletin_ids))
             if b.state == "public"]
    if not found:
        return None
    found.sort(key=lambda b: (b.published_at, b.id), reverse=True)
    return Digest(digest_id=row.digest_id, frequency=row.frequency,
                  period_start=row.period_start, period_end=row.period_end,
                  bulletins=tuple(found))
