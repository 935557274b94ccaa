"""Every URL we emit, built from public_base_url (and tokens for personal links)."""

from __future__ import annotations

from syndicator.compose.verp import Verp
from syndicator.config.settings import Settings
from syndicator.models.message import Recipient
from syndicator.models.subscriber import Subscriber
from syndicator.subscribers.tokens import Tokens


class Links:
    """Absolute links for feeds, web copies and a subscriber's own pages."""

    def __init__(self, settings: Settings, tokens: Tokens, verp: Verp | None = None) -> None:
        self._base = settings.base_url
        self._feeds = settings.feeds_url
        self._tokens = tokens
        self._verp = verp  # with bounces.return_path: each subscriber's own signed mailto

    def feed(self, filename: str) -> str:
        return f"{self._feeds}/{filename}"

    def digest(self, digest_id: str, large: bool = False) -> str:
        return f"{self._base}/digests/{digest_id}" + ("?size=large" if large else "")

    def subscribe(self) -> str:
        return f"{self._base}/subscribe"

    def confirm(self, subscriber_id: int, version: int, request: int | None = None) -> str:
        token = self._tokens.make("confirm", subscriber_id, version, request)
        return f"{self._base}/confirm/{token}"

    def preferences(self, subscriber_id: int, version: int) -> str:
        return f"{self._base}/preferences/{self._tokens.make('manage', subscriber_id, version)}"

    @staticmethod
    def switch_size(preferences_url: str, current: str) -> str:
        """The preferences page with the other text size preselected (its POST saves it)."""
        other = "standard" if current == "large" else "large"
        return f"{preferences_url}?text_size={other}"

    def unsubscribe(self, subscriber_id: int, version: int) -> str:
        token = self._tokens.make("unsubscribe", subscriber_id, version)
        return f"{self._base}/unsubscribe/{token}"

    def recipient(self, subscriber: Subscriber) -> Recipient:
        """The subscriber as the composer's Recipient, with freshly signed personal links.

        Links carry the subscriber's token version, so `subscribers reset-links` invalidates
        every earlier mail's links (the signed mailto too); the size switch preselects the
        other size.
        """
        version = subscriber.token_version
        preferences = self.preferences(subscriber.id, version)
        return Recipient(
            email=subscriber.email,
            name=subscriber.name,
            text_size=subscriber.text_size,
            unsubscribe_url=self.unsubscribe(subscriber.id, version),
            preferences_url=preferences,
            switch_size_url=self.switch_size(preferences, subscriber.text_size),
            unsubscribe_mailto=(self._verp.unsubscribe_address(subscriber.id, version)
                                if self._verp else None),
        )

    def public_recipient(self, email: str) -> Recipient:
        """A configured address (a canary) as a Recipient: no subscription behind it, so its
        personal links lead to the public subscribe page."""
        page = self.subscribe()
        return Recipient(email=email, name="", text_size="standard", unsubscribe_url=page,
                         preferences_url=page, switch_size_url=page)
