"""What a digest and its recipient are, as the composer sees them (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from syndicator.models.bulletin import Bulletin
from syndicator.models.correction import Correction

FREQUENCIES = ("immediate", "daily", "weekly")
TEXT_SIZES = ("standard", "large")


@dataclass(frozen=True)
class Recipient:
    """One subscriber's address and personal links (tokens already signed)."""

    email: str
    name: str
    text_size: str  # "standard" | "large"
    unsubscribe_url: str  # https URL under public_base_url (POST one-click target too)
    preferences_url: str
    switch_size_url: str  # the preferences page, where the other size is offered
    # List-Unsubscribe's mailto signed for this subscriber (bounces.return_path); None: the
    # configured mail.unsubscribe_mailto, if any.
    unsubscribe_mailto: str | None = None

    @property
    def large(self) -> bool:
        return self.text_size == "large"


@dataclass(frozen=True)
class Digest:
    """The bulletins one recipient gets for one period, newest first."""

    digest_id: str  # public id of the web copy: /digests/<digest_id>
    frequency: str  # "immediate" | "daily" | "weekly"
    period_start: datetime  # aware UTC
    period_end: datetime  # aware UTC
    bulletins: tuple[Bulletin, ...]  # filtered for the recipient's categories, newest first
    # Shown first: corrections and withdrawals for this recipient (corrections.notify:
    # next_digest), or, on a web copy, of bulletins this digest carried (docs/adr/018).
    corrections: tuple[Correction, ...] = ()
