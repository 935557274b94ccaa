"""One message that came back (RFC 5322 bytes) -> a Returned: what it is and whom it is about."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from email.message import Message
from typing import Any, BinaryIO

import structlog

from syndicator.bounces import dsn, mime, signals
from syndicator.bounces.report import Kind, RecipientStatus, Returned
from syndicator.bounces.tags import Tags
from syndicator.compose.verp import UnsubscribeTag, Verp

log = structlog.get_logger(__name__)

DEFAULT_LIMIT = 10 * 1024 * 1024
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)


def classify(raw: bytes, verp: Verp | None = None, *, envelope_recipient: str | None = None,
             limit: int = DEFAULT_LIMIT) -> Returned:
    """What `raw` is; never raises. Messages over `limit` bytes are not parsed (UNKNOWN,
    reason "oversize"); so is anything the parser chokes on (reason "unparsed").
    `envelope_recipient` is the address it was delivered to, when the MTA says (a pipe's
    ${original_recipient}); `verp` reads the tags, and without it none is trusted."""
    key = message_key(raw)
    if len(raw) > limit:
        log.warning("bounces.refused", reason="oversize", size=len(raw), limit=limit)
        return Returned(Kind.UNKNOWN, key, "oversize", size=len(raw))
    try:
        return _classify(raw, key, verp, envelope_recipient)
    # Hostile or broken mail must never stop the reader; the traceback goes to the log.
    except Exception:
        log.exception("bounces.unparsed", key=key[:16], size=len(raw))
        return Returned(Kind.UNKNOWN, key, "unparsed", size=len(raw))


def read_message(stream: BinaryIO, limit: int = DEFAULT_LIMIT) -> bytes:
    """At most limit + 1 bytes of a message (enough to tell it is too big); the rest of the
    stream is read and dropped, so that an MTA's pipe sees the message consumed."""
    data = stream.read(limit + 1)
    while stream.read(1 << 20):
        pass
    return data


def message_key(raw: bytes) -> str:
    """sha256 of the Message-ID and the body: headers an MTA adds on delivery (Received,
    Delivered-To, Return-Path) and CRLF/LF line ends do not change it."""
    pieces = _HEADER_END.split(raw, maxsplit=1)
    head, body = pieces[0], pieces[1] if len(pieces) == 2 else b""
    found = _MESSAGE_ID.search(head)
    digest = hashlib.sha256((found[1].lower() if found else b"") + b"\0")
    digest.update(body.replace(b"\r\n", b"\n").rstrip())
    return digest.hexdigest()


def _classify(raw: bytes, key: str, verp: Verp | None, envelope: str | None) -> Returned:
    msg = mime.parse(raw)
    original = mime.original_headers(msg)
    status = dsn.status_report(msg)
    feedback = dsn.feedback_report(msg)
    tags = Tags.find(verp, msg, original, raw, envelope=envelope,
                     also=[status.envelope_sender if status else None,
                           feedback.mail_from if feedback else None])
    base = Returned(
        Kind.UNKNOWN, key, "unmatched", delivery_id=tags.delivery_id, subscriber=tags.subscriber,
        message_id=_original_id(msg, original, status),
        failed_recipients=signals.failed_recipients(msg), size=len(raw))
    if feedback is not None:
        kind = Kind.UNKNOWN if feedback.feedback_type == "not-spam" else Kind.COMPLAINT
        return _with(base, kind, "arf", feedback_type=feedback.feedback_type,
                     recipients=tuple(RecipientStatus(address=a) for a in feedback.rcpt_to))
    if status is not None and (meaning := dsn.kind_of(status.recipients)):
        return _with(base, meaning, "dsn", recipients=status.recipients)
    if status is not None or signals.looks_like_bounce(msg):
        return _older_bounce(msg, base)
    return _not_a_bounce(msg, base, tags.to_unsubscribe)


def _original_id(msg: Message, original: Message | None,
                 status: dsn.StatusReport | None) -> str | None:
    """Our Message-ID: from the returned headers, a DSN field, the text, or In-Reply-To
    (which Exchange NDRs and RFC 3834 replies set to it)."""
    return ((mime.text(original, "Message-ID") if original else "")
            or (status.message_id if status else None)
            or mime.quoted_message_id(msg, mime.text(msg, "Message-ID"))
            or mime.text(msg, "In-Reply-To").split(" ")[0] or None)


def _older_bounce(msg: Message, base: Returned) -> Returned:
    recipients = signals.text_recipients(msg)
    if not recipients and base.failed_recipients:
        # Exim lists in X-Failed-Recipients only the addresses that failed permanently.
        recipients = tuple(RecipientStatus(address=a, action="failed", status="5.0.0")
                           for a in base.failed_recipients)
    kind = dsn.kind_of(recipients)
    if kind is None:
        return _with(base, Kind.UNKNOWN, "bounce-unread")
    return _with(base, kind, "ndr-text", recipients=recipients)


def _not_a_bounce(msg: Message, base: Returned, to_unsubscribe: UnsubscribeTag | None) -> Returned:
    # The tagged mailto appears only in List-Unsubscribe, where no autoresponder answers (they
    # answer Return-Path or From): what reaches it is a request, even one a mail client sent
    # by itself on the reader's behalf and marked Auto-Submitted.
    if to_unsubscribe is not None:
        return _with(base, Kind.UNSUBSCRIBE, "mailto")
    if signal := signals.is_auto_reply(msg):
        return _with(base, Kind.AUTO_REPLY, f"rfc3834:{signal}")
    return base


def _with(base: Returned, kind: Kind, reason: str, **changes: Any) -> Returned:
    return replace(base, kind=kind, reason=reason, **changes)
