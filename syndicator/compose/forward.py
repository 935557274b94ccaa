"""A returned message no rule understood (a person's reply), wrapped for `mail.reply_to`.

The original goes along as an attachment, not re-sent as it is: re-sending it under its own
From would fail the sender's SPF and DMARC at the reply-to mailbox. Built once per message
with the standard library (this is not a hot path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from syndicator.compose import mime
from syndicator.compose.templates import environment
from syndicator.config.settings import Settings
from syndicator.models.address import ascii_address
from syndicator.models.text import one_line

ATTACHMENT = "thu-goc.eml"
_SUBJECT_CHARS = 150


@dataclass(frozen=True)
class KeptMessage:
    """What the forward says of the message it carries."""

    record_id: int
    raw: bytes  # as kept (possibly cut)
    size: int  # as received
    subject: str
    sender: str
    received: datetime


def forward(settings: Settings, original: KeptMessage, *, message_id: str,
            date: datetime) -> bytes:
    """The message to `mail.reply_to` (which must be set), as CRLF bytes."""
    if settings.mail.reply_to is None:
        raise ValueError("mail.reply_to is not set: there is nobody to forward to")
    env = environment(settings.timezone)
    values = {"site_title": one_line(settings.site.title),
              "subject": one_line(original.subject)[:_SUBJECT_CHARS],
              "sender": one_line(original.sender)[:200], "received": original.received,
              "record_id": original.record_id, "filename": ATTACHMENT,
              "return_address": settings.bounces.return_path or settings.mail.from_address,
              "truncated": len(original.raw) < original.size, "size": original.size,
              "kept": len(original.raw)}
    subject = env.get_template("returned_forward_subject.txt.j2").render(values)
    # From and Subject as the digests write them: the stdlib's encoder loses the spaces
    # between RFC 2047 words of a Vietnamese phrase (docs/adr/003).
    head = (mime.address_header("From", settings.mail.from_name, settings.mail.from_address)
            + mime.header("Subject", subject))
    msg = EmailMessage(policy=SMTP)
    msg["To"] = ascii_address(settings.mail.reply_to)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    # RFC 3834: made by a program; no out-of-office reply should answer it.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(env.get_template("returned_forward.txt.j2").render(values))
    msg.add_attachment(original.raw, maintype="application", subtype="octet-stream",
                       filename=ATTACHMENT)
    return head + msg.as_bytes()
