"""Header and text signals: auto-replies (RFC 3834 and vendors'), and older non-DSN bounces."""

from __future__ import annotations

import logging
import re
import unicodedata
from email.message import Message

import structlog
from flufl.bounce import all_failures

from syndicator.bounces import mime
from syndicator.bounces.dsn import status_in
from syndicator.bounces.report import RecipientStatus

log = structlog.get_logger(__name__)
# flufl.bounce logs every detector it runs at INFO (one line per detector per message) and,
# on a detector's exception, a traceback at ERROR before re-raising it (handled below).
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mdaemon")
# Subjects that older bounces use in place of a report part (English and Vietnamese).
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|returned mail|delivery (status notification \(failure|"
    r"failure|failed|has failed|notification)|failure notice|mail delivery (failed|system)|"
    r"non[- ]?delivery|could not (be )?deliver|nondeliverable|không (thể )?gửi được|"
    r"thư không (được )?gửi|gửi (thư )?không thành công")
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic|matisk)?[ -]?(reply|response|antwort|svar)|autoreply|auto:|"
    r"out of (the )?office|ooo\b|abwesen|réponse automatique|respuesta automática|"
    r"trả lời tự động|tự động trả lời|thư trả lời tự động|vắng mặt|không có mặt)")
_SUPPRESS_OOF = re.compile(r"\b(oof|all|autoreply)\b")


def is_auto_reply(msg: Message) -> str | None:
    """Which signal says the message is an automatic reply, or None for none."""
    auto = mime.text(msg, "Auto-Submitted").lower()
    if auto and not auto.startswith("no"):
        return "auto-submitted"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation"):
        if msg.get(name) is not None:
            return name.lower()
    if mime.text(msg, "Precedence").lower() == "auto_reply":
        return "precedence"
    # Exchange and Outlook put it on their out-of-office replies, so that no one answers back.
    if _SUPPRESS_OOF.search(mime.text(msg, "X-Auto-Response-Suppress").lower()):
        return "x-auto-response-suppress"
    if _subject(msg, _AUTO_SUBJECT):
        return "subject"
    return None


def looks_like_bounce(msg: Message) -> bool:
    """From a mail daemon, naming failed recipients, an Exchange NDR, or a bounce's subject."""
    sender = mime.text(msg, "From").lower()
    if any(d + "@" in sender or d + " " in sender for d in _DAEMONS):
        return True
    if msg.get("X-Failed-Recipients") or msg.get("X-MS-Exchange-Message-Is-Ndr") is not None:
        return True
    return _subject(msg, _BOUNCE_SUBJECT) and mime.text(msg, "Return-Path") in ("", "<>")


def failed_recipients(msg: Message) -> tuple[str, ...]:
    """X-Failed-Recipients (Exim, Gmail): comma-separated addresses, possibly repeated."""
    found: list[str] = []
    for value in mime.texts(msg, "X-Failed-Recipients"):
        found.extend(a.strip().strip("<>") for a in value.split(",") if "@" in a)
    return tuple(dict.fromkeys(found))


def text_recipients(msg: Message) -> tuple[RecipientStatus, ...]:
    """Recipients and statuses an older bounce's text gives (flufl.bounce's detectors)."""
    try:
        temporary, permanent = all_failures(msg)
    # flufl.bounce 6.0's heuristic detectors index into what they parse (its Yale detector
    # raises IndexError on a From header that yields no address): a broken detector must not
    # lose the X-Failed-Recipients and VERP tag that the caller still has.
    except (IndexError, KeyError, ValueError, TypeError, AttributeError, UnicodeError):
        log.warning("bounces.detector_failed", exc_info=True)
        return ()
    status = status_in(_first_text(msg))
    found = [_from_text(a, "failed", status, "5.0.0") for a in sorted(permanent)]
    found += [_from_text(a, "delayed", status, "4.0.0") for a in sorted(temporary - permanent)]
    return tuple(found)


def _from_text(address: bytes, action: str, status: str | None, default: str) -> RecipientStatus:
    # The text's status only counts when it agrees with what the detector said of the address.
    agreed = status if status and status[0] == default[0] else default
    return RecipientStatus(address=address.decode("ascii", "replace"), action=action,
                           status=agreed)


def _first_text(msg: Message) -> str:
    for part in mime.parts(msg):
        if part.get_content_type() == "text/plain":
            return mime.body_text(part, limit=20_000)
    return ""


def _subject(msg: Message, pattern: re.Pattern[str]) -> bool:
    subject = unicodedata.normalize("NFC", mime.text(msg, "Subject")).casefold()
    return bool(pattern.search(subject))
