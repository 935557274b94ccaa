"""RFC 3464 delivery status and RFC 5965 feedback report fields, read from their parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from syndicator.bounces import mime
from syndicator.bounces.report import Kind, RecipientStatus

STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
FEEDBACK_TYPES = ("message/feedback-report",)
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BASIC = re.compile(r"(?<!\d)([245])\d\d(?!\d)")
_DIAGNOSTIC_CHARS = 500
_FINAL_ACTIONS = ("delivered", "relayed", "expanded")


@dataclass(frozen=True)
class StatusReport:
    """The delivery-status parts: per-message fields and one status per recipient."""

    recipients: tuple[RecipientStatus, ...]
    envelope_sender: str | None  # X-Postfix-Sender (Postfix's per-message field)
    message_id: str | None  # X-Original-Message-ID (Gmail's per-message field)


@dataclass(frozen=True)
class FeedbackReport:
    feedback_type: str
    mail_from: str | None  # Original-Mail-From: our envelope sender, with its VERP tag
    rcpt_to: tuple[str, ...]  # Original-Rcpt-To: whom it was delivered to


def status_report(msg: Message) -> StatusReport | None:
    """The delivery-status fields of a DSN, or None when it has no such part."""
    recipients: list[RecipientStatus] = []
    sender = message_id = None
    found = False
    for part in mime.of_type(msg, *STATUS_TYPES):
        found = True
        blocks = mime.header_blocks(part)
        if blocks:
            sender = sender or _address(mime.text(blocks[0], "X-Postfix-Sender"))
            message_id = message_id or mime.text(blocks[0], "X-Original-Message-ID") or None
        recipients.extend(_recipient(b) for b in blocks if _is_recipient_block(b))
    return StatusReport(tuple(recipients), sender, message_id) if found else None


def feedback_report(msg: Message) -> FeedbackReport | None:
    for part in mime.of_type(msg, *FEEDBACK_TYPES):
        fields = mime.header_blocks(part)
        if fields:
            first = fields[0]
            return FeedbackReport(
                feedback_type=(mime.text(first, "Feedback-Type").lower() or "abuse").split()[0],
                mail_from=_address(mime.text(first, "Original-Mail-From")),
                rcpt_to=tuple(a for v in mime.texts(first, "Original-Rcpt-To")
                              if (a := _address(v))))
    return None


def kind_of(recipients: tuple[RecipientStatus, ...]) -> Kind | None:
    """hard when any recipient failed on a 5.x.x; soft when failed on 4.x.x or delayed;
    delivered when every one was delivered, relayed or expanded; None when none says."""
    if any(r.permanent for r in recipients):
        return Kind.HARD
    if any(r.action in ("failed", "delayed") for r in recipients):
        return Kind.SOFT
    if recipients and all(r.action in _FINAL_ACTIONS for r in recipients):
        return Kind.DELIVERED
    return None


def status_in(text: str) -> str | None:
    """The first RFC 3463 status in a text, else one made from a basic SMTP code (550 -> 5.0.0)."""
    if m := _ENHANCED.search(text):
        return f"{m[1]}.{int(m[2])}.{int(m[3])}"
    if m := _BASIC.search(text):
        return f"{m[1]}.0.0"
    return None


def _is_recipient_block(block: Message) -> bool:
    return any(block.get(f) for f in ("Final-Recipient", "Original-Recipient", "Action"))


def _recipient(block: Message) -> RecipientStatus:
    diagnostic = mime.text(block, "Diagnostic-Code")[:_DIAGNOSTIC_CHARS] or None
    words = mime.text(block, "Action").lower().split()  # some MTAs add a comment after it
    action = {"error": "failed"}.get(words[0], words[0]) if words else None  # OpenSMTPD: error
    status = status_in(mime.text(block, "Status")) or status_in(diagnostic or "")
    if status is None and action == "failed":
        status = "5.0.0"  # RFC 3464 makes Status mandatory; a failure without one is final
    return RecipientStatus(address=_address(mime.text(block, "Final-Recipient")),
                           original=_address(mime.text(block, "Original-Recipient")),
                           action=action, status=status, diagnostic=diagnostic)


def _address(field: str) -> str | None:
    """The address of a typed field ("rfc822; a@b", "<a@b>", "a@b"), lower-cased domain."""
    value = field.partition(";")[2] if ";" in field else field
    value = value.strip().strip("<>").strip()
    if "@" not in value or any(c.isspace() for c in value):
        return None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"
