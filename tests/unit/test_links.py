"""Subscribers become recipients whose links carry valid, purpose-bound tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from syndicator.config.settings import Settings
from syndicator.models.subscriber import Subscriber
from syndicator.subscribers.links import Links
from syndicator.subscribers.tokens import LinkToken, Tokens

NOW = datetime(2023, 11, 27, tzinfo=UTC)


def test_recipient_links_are_signed_for_their_purpose() -> None:
    tokens = Tokens("test-secret")
    sub = Subscriber(id=42, email="noivu@chodon.example", name="Phòng Nội vụ huyện Chợ Đồn",
                     frequency="daily", categories=(), text_size="large", status="active",
                     paused=False, consent_source="demo", token_version=3,
                     created_at=NOW, updated_at=NOW)
    r = Links(Settings(), tokens).recipient(sub)
    assert r.large and r.email == sub.email and r.name == sub.name
    assert r.unsubscribe_url.startswith("http://127.0.0.1:8080/unsubscribe/")
    assert tokens.read_link(r.unsubscribe_url.rsplit("/", 1)[1], "unsubscribe") == LinkToken(42, 3)
    assert tokens.read_link(r.preferences_url.rsplit("/", 1)[1], "manage") == LinkToken(42, 3)
    assert r.switch_size_url == r.preferences_url + "?text_size=standard"  # the other size
