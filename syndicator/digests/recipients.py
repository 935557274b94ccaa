"""A stored subscriber as the composer's Recipient, with freshly signed personal links."""

from __future__ import annotations

from typing import Protocol

from syndicator.digests.model import Recipient
from syndicator.links import Links


class Addressee(Protocol):
    """What a Recipient is made of: a Subscriber, or a subscribers row."""

    id: int
    email: str
    name: str
    text_size: str
    token_version: int


def recipient_for(subscriber: Addressee, links: Links) -> Recipient:
    """Links carry the subscriber's token version, so `subscribers reset-links` invalidates
    every earlier mail's links; the size switch preselects the other size."""
    version = subscriber.token_version
    preferences = links.preferences(subscriber.id, version)
    return Recipient(
        email=subscriber.email,
        name=subscriber.name,
        text_size=subscriber.text_size,
        unsubscribe_url=links.unsubscribe(subscriber.id, version),
        preferences_url=preferences,
        switch_size_url=links.switch_size(preferences, subscriber.text_size),
    )
