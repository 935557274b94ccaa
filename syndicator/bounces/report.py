"""What a returned message says, as plain types: its kind, its recipients, what ties it to us."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from syndicator.compose.verp import UnsubscribeTag


class Kind(StrEnum):
    """What a returned message means for the delivery and the subscriber."""

    HARD = "hard"  # failed with a 5.x.x status: counts like a 5xx at sending time
    SOFT = "soft"  # delayed, or failed on a 4.x.x status: changes nothing by itself
    DELIVERED = "delivered"  # a DSN saying delivered/relayed/expanded: changes nothing
    COMPLAINT = "complaint"  # an RFC 5965 feedback report (spam button): unsubscribe
    UNSUBSCRIBE = "unsubscribe"  # mail to a subscriber's List-Unsubscribe mailto
    AUTO_REPLY = "auto_reply"  # RFC 3834 and vendors' out-of-office replies: ignored
    UNKNOWN = "unknown"  # anything else (a person's reply, a refused message): kept


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient's fields of a DSN (or what an older bounce's text says of it)."""

    address: str | None  # Final-Recipient, or the address a non-standard bounce names
    original: str | None = None  # Original-Recipient
    action: str | None = None  # failed | delayed | delivered | relayed | expanded
    status: str | None = None  # RFC 3463 X.Y.Z
    diagnostic: str | None = None  # Diagnostic-Code, e.g. "smtp; 550 5.1.1 No such user"

    @property
    def permanent(self) -> bool:
        return self.action in ("failed", None) and (self.status or "").startswith("5.")


@dataclass(frozen=True)
class Returned:
    """One message that came back, classified. `key` identifies it for "read once" records:
    equal for the same message read again (from a mailbox after a crash, or piped twice)."""

    kind: Kind
    key: str
    reason: str  # how it was recognised: dsn, ndr-text, arf, rfc3834, mailto, oversize, ...
    delivery_id: int | None = None  # from a verified VERP tag
    subscriber: UnsubscribeTag | None = None  # from a verified unsubscribe tag
    message_id: str | None = None  # the Message-ID of our message it is about
    recipients: tuple[RecipientStatus, ...] = ()
    failed_recipients: tuple[str, ...] = ()  # X-Failed-Recipients (Exim, Gmail)
    feedback_type: str | None = None  # ARF: abuse, fraud, virus, other, not-spam
    size: int = 0  # bytes as read

    @property
    def status(self) -> str | None:
        """The first recipient's status (one recipient per message is what we send)."""
        return next((r.status for r in self.recipients if r.status), None)

    def log_fields(self) -> dict[str, object]:
        """Fields for one structured log line: no addresses, no text from the message."""
        return {"kind": self.kind.value, "reason": self.reason, "delivery_id": self.delivery_id,
                "subscriber_id": self.subscriber.subscriber_id if self.subscriber else None,
                "status": self.status, "recipients": len(self.recipients),
                "key": self.key[:16], "size": self.size}
