"""A stored subscriber as the composer's Recipient, with freshly signed personal links."""

from __future__ import annotations

from syndicator.digests.model import Recipient
from syndicator.links import Links
from syndicator.subscribers.model import Subscriber


def recipient_for(subscriber: Subscriber, links: Links) -> Recipient:
    """Links carry the subscriber's token version, so a reset invalidates old mail's links."""
    preferences = links.preferences(subscriber.id, subscriber.token_version)
    return Recipient(
        email=subscriber.email,
        name=subscriber.name,
        text_size=subscriber.text_size,
        unsubscribe_url=links.unsubscribe(subscriber.id, subscriber.token_version),
        preferences_url=preferences,
        switch_size_url=preferences,  # the preferences page offers the other size
    )
