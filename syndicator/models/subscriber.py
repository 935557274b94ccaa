"""Subscribers as stored and as requested, and the values their fields may take."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from syndicator.models.text import slugify

FREQUENCIES = ("immediate", "daily", "weekly")
TEXT_SIZES = ("standard", "large")
STATUSES = ("pending", "active", "unsubscribed", "bounced")
MAX_NAME = 200


@dataclass(frozen=True)
class NewSubscriber:
    """A validated subscriber to create (or update, on import)."""

    email: str
    name: str = ""
    frequency: str = "daily"
    categories: tuple[str, ...] = ()
    text_size: str = "standard"


@dataclass(frozen=True)
class Subscriber:
    """A stored subscriber."""

    id: int
    email: str
    name: str
    frequency: str
    categories: tuple[str, ...]
    text_size: str
    status: str
    paused: bool
    consent_source: str
    token_version: int
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    def wants(self, category_slug: str | None) -> bool:
        """Empty categories mean every category."""
        if not self.categories:
            return True
        return category_slug in {slugify(c) for c in self.categories}


def email_key(email: str) -> str:
    """The unique key of an address: one mailbox is one subscriber, whatever its case."""
    return email.casefold()
