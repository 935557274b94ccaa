"""Turns claimed deliveries into message bytes (digests and page mails), or a reason to skip."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
import structlog

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from syndicator.delivery.dkim import make_signer
from syndicator.errors import PermanentError
from syndicator.models.address import ascii_address
from syndicator.models.correction import Correction
from syndicator.models.message import Digest, Recipient
from syndicator.models.subscriber import Subscriber
from syndicator.state import corrections as correction_store
from syndicator.state import runs as run_store
from syndicator.state import subscribers as subscriber_store
from syndicator.state.outbox import CANARY, CORRECTION, DIGEST, RUN_OVERDUE, Claimed
from syndicator.subscribers.links import Links
from syndicator.subscribers.tokens import Tokens, secret_key, verp_for

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A claimed delivery ready to send (`data`), or to record as skipped (`skip`)."""

    claim: Claimed
    email: str  # the envelope recipient: ASCII, the domain in IDNA
    message_id: str
    data: bytes | None = None
    sender: str = ""  # the envelope sender (MAIL FROM): a VERP address, or mail.from_address
    skip: str | None = None
    error: str | None = None  # composing failed: retried like a 4xx, then failed
    final: bool = False  # the error cannot go away by retrying (an address we cannot send to)

    @property
    def name(self) -> str:
        """The .eml file name: the Message-ID's local part, the same on every attempt."""
        return self.message_id.strip("<>").split("@", 1)[0]


def message_id_for(claim: Claimed, host: str) -> str:
    """Fixed at the first claim: `<d12.r3@host>` for a digest, `<d13.confirmation@host>` else."""
    what = f"r{claim.run_id}" if claim.kind in (DIGEST, CANARY) \
        else claim.kind.replace("_", "-")
    return f"<d{claim.id}.{what}@{host}>"


def allowed(email: str, patterns: Sequence[str]) -> bool:
    """Staging allowlist: no patterns means everyone."""
    key = email.casefold()
    return not patterns or any(fnmatch.fnmatchcase(key, p.casefold()) for p in patterns)


class Preparer:
    """Composes each claim; caches each digest content for the length of one sending round."""

    def __init__(self, settings: Settings, engine: sa.Engine) -> None:
        self._settings = settings
        self._engine = engine
        self._composer = DigestComposer(settings)
        self._with_corrections: set[int] = set()  # this batch's digest deliveries that do
        # With bounces.return_path, each delivery's envelope sender names it (a DSN comes back
        # to it), and each subscriber's List-Unsubscribe mailto is signed for them.
        self._verp = verp_for(settings, engine)
        self._links = Links(settings, Tokens(secret_key(settings, engine)), self._verp)
        self._digests: dict[int, Digest | None] = {}
        self._signer = make_signer(settings.mail)
        self.host = urlsplit(settings.base_url).hostname or "localhost"

    def prepare(self, conn: sa.Connection, claims: Sequence[Claimed], *,
                eightbit: bool = False) -> list[Prepared]:
        """Message bytes for each claim; digests with 8bit bodies when `eightbit` (the
        transport takes them: docs/adr/010-8bit-bodies-and-the-transmitted-size-guard.md)."""
        subs = subscriber_store.get_many(conn, [c.subscriber_id for c in claims
                                                if c.subscriber_id is not None])
        self._with_corrections = self._carrying(conn, claims)
        return [self._safe(conn, c, subs.get(c.subscriber_id or 0), eightbit) for c in claims]

    def _safe(self, conn: sa.Connection, c: Claimed, sub: Subscriber | None,
              eightbit: bool) -> Prepared:
        # One message that cannot be composed must not stop the others.
        try:
            if sub is None:
                return self._to_address(conn, c, eightbit)
            return self._one(conn, c, sub, eightbit)
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery, logged
            log.error("delivery.compose_failed", delivery_id=c.id, error=repr(exc)[:300])
            reason = f"cannot compose: {exc!r}"[:400]
            return Prepared(c, sub.email if sub else c.address or "", c.message_id or "",
                            error=reason, final=isinstance(exc, PermanentError))

    def _to_address(self, conn: sa.Connection, c: Claimed, eightbit: bool) -> Prepared:
        """Mail to a configured address: a canary's copy of a run, the operator's alert."""
        if c.address is None:
            raise PermanentError("a delivery with neither a subscriber nor an address")
        mid = c.message_id or message_id_for(c, self.host)
        if not allowed(c.address, self._settings.mail.allow_only):
            log.info("delivery.held_back", delivery_id=c.id, recipient=c.address, kind=c.kind,
                     reason="mail.allow_only")
            return Prepared(c, c.address, mid, skip="not in mail.allow_only (staging)")
        date = datetime.now(UTC)
        if c.kind == CANARY:
            digest = self._digest(conn, c.content_id)
            if digest is None:
                return Prepared(c, c.address, mid,
                                skip="every bulletin of this digest was withdrawn")
            data = self._composer.message(digest, self._links.public_recipient(c.address),
                                          message_id=mid, date=date, eightbit=eightbit)
        elif c.kind == RUN_OVERDUE:
            data = self._composer.operator_alert(c.kind, c.address, c.payload or {},
                                                 message_id=mid, date=date)
        else:
            raise PermanentError(f"no mail of kind {c.kind!r} goes to a configured address")
        if self._signer is not None:
            data = self._signer.sign(data)
        return Prepared(c, ascii_address(c.address), mid, data=data, sender=self._sender(c))

    def _one(self, conn: sa.Connection, c: Claimed, sub: Subscriber,
             eightbit: bool) -> Prepared:
        mid = c.message_id or message_id_for(c, self.host)
        skip = self._skip(c, sub)
        if skip is not None:
            return Prepared(c, sub.email, mid, skip=skip)
        data = self._compose(conn, c, sub, mid, eightbit)
        if data is None:
            return Prepared(c, sub.email, mid, skip="every bulletin of this digest was withdrawn")
        if self._signer is not None:
            data = self._signer.sign(data)
        # RCPT TO takes the ASCII form: aiosmtplib cannot encode an IDN domain itself.
        return Prepared(c, ascii_address(sub.email), mid, data=data, sender=self._sender(c))

    def _sender(self, c: Claimed) -> str:
        if self._verp is None:
            return self._settings.mail.from_address
        return self._verp.envelope_sender(c.id)

    def _skip(self, c: Claimed, sub: Subscriber) -> str | None:
        """Why not to send: a digest only reaches an active, unpaused subscriber (a page mail
        answers a person's request whatever the status); staging holds back strangers."""
        if c.kind in (DIGEST, CORRECTION) and (sub.status != "active" or sub.paused):
            return f"subscriber is {sub.status}" + (" (paused)" if sub.paused else "")
        if not allowed(sub.email, self._settings.mail.allow_only):
            # Staging: one line per message held back (never a list), so testers see who.
            log.info("delivery.held_back", delivery_id=c.id, recipient=sub.email,
                     kind=c.kind, reason="mail.allow_only")
            return "not in mail.allow_only (staging)"
        return None

    def _compose(self, conn: sa.Connection, c: Claimed, sub: Subscriber,
                 mid: str, eightbit: bool) -> bytes | None:
        recipient = self._links.recipient(sub)
        date = datetime.now(UTC)
        if c.kind == DIGEST:
            digest = self._digest(conn, c.content_id)
            if digest is None:
                return None
            if c.id in self._with_corrections:
                digest = replace(digest, corrections=self._held(conn, c.id))
            return self._composer.message(digest, recipient, message_id=mid, date=date,
                                          eightbit=eightbit)
        if c.kind == CORRECTION:
            return self._correction(conn, c, recipient, mid, date, eightbit)
        if c.kind == "confirmation":
            request = (c.payload or {}).get("request")
            url = self._links.confirm(sub.id, sub.token_version, request)
            return self._composer.confirmation(recipient, confirm_url=url, message_id=mid,
                                               date=date)
        return self._composer.notice(recipient, c.kind, message_id=mid, date=date)

    def _carrying(self, conn: sa.Connection, claims: Sequence[Claimed]) -> set[int]:
        """The digest claims that carry corrections held for their subscriber's next digest
        (corrections.notify: next_digest): those waiting are tied to the delivery first, in
        their own transaction, so that every retry of it shows the same ones."""
        digests = [c for c in claims if c.kind == DIGEST and c.subscriber_id is not None]
        carrying = correction_store.carrying(conn, [c.id for c in digests])
        waiting = correction_store.holding(conn, [c.subscriber_id or 0 for c in digests
                                                  if c.id not in carrying])
        for c in digests:
            if c.subscriber_id in waiting and c.id not in carrying:
                with self._engine.begin() as tie:
                    held = correction_store.held_for(tie, c.subscriber_id or 0)
                    correction_store.attach(tie, [h.notice_id for h in held], c.id)
                carrying.add(c.id)
        return carrying

    def _held(self, conn: sa.Connection, delivery_id: int) -> tuple[Correction, ...]:
        with self._engine.connect() as fresh:  # what _carrying committed
            held = correction_store.carried_by(fresh, delivery_id)
            found = (correction_store.correction(fresh, h.bulletin_id, h.version,
                                                 h.from_version) for h in held)
            return tuple(c for c in found if c is not None)

    def _correction(self, conn: sa.Connection, c: Claimed, recipient: Recipient, mid: str,
                    date: datetime, eightbit: bool) -> bytes | None:
        p = c.payload or {}
        found = correction_store.correction(conn, int(p["bulletin_id"]), int(p["version"]),
                                            int(p["from_version"]))
        if found is None:
            raise PermanentError(f"correction of bulletin {p.get('bulletin_id')} version "
                                 f"{p.get('version')} is no longer in the state database")
        return self._composer.correction(found, recipient, message_id=mid, date=date,
                                         eightbit=eightbit)

    def _digest(self, conn: sa.Connection, content_id: int | None) -> Digest | None:
        if content_id is None:
            raise PermanentError("a digest delivery without its content")
        if content_id not in self._digests:
            row = run_store.content(conn, content_id)
            self._digests[content_id] = run_store.sent_digest(conn, row)
        return self._digests[content_id]
