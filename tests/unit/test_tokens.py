"""Link tokens: bound to a subscriber and a purpose; forged or expired ones are refused."""

import pytest

from syndicator.subscribers.tokens import InvalidToken, LinkToken, Tokens


def test_round_trip() -> None:
    t = Tokens("k" * 32)
    assert t.read_link(t.make("unsubscribe", 42, 3), "unsubscribe") == LinkToken(42, 3)


def test_other_purpose_is_refused() -> None:
    t = Tokens("k" * 32)
    with pytest.raises(InvalidToken) as info:
        t.read_link(t.make("manage", 42, 0), "unsubscribe")
    assert info.value.reason == "invalid"


def test_altered_or_foreign_token_is_refused() -> None:
    token = Tokens("k" * 32).make("confirm", 1, 0)
    for bad in (_tampered(token), "garbage", "", Tokens("other" * 8).make("confirm", 1, 0)):
        with pytest.raises(InvalidToken):
            Tokens("k" * 32).read_link(bad, "confirm")


def test_expired_token_says_so() -> None:
    t = Tokens("k" * 32)
    token = t.make("confirm", 1, 0)
    with pytest.raises(InvalidToken) as info:
        t.read_link(token, "confirm", max_age=-1)
    assert info.value.reason == "expired"


def test_confirm_token_carries_its_request() -> None:
    t = Tokens("k" * 32)
    link = t.read_link(t.make("confirm", 42, 3, request=17), "confirm")
    assert (link.subscriber_id, link.version, link.request) == (42, 3, 17)
    assert t.read_link(t.make("confirm", 42, 3), "confirm").request is None  # older mails
    assert t.read_link(t.make("confirm", 42, 3, request=17), "confirm") == LinkToken(42, 3, 17)
    for bad in ([42, 3, "17"], [42], [42, 3, 17, 1], {"id": 42}):
        token = t._serializer("confirm").dumps(bad)
        with pytest.raises(InvalidToken):
            t.read_link(token, "confirm")


def _tampered(token: str) -> str:
    """The token with one signature character changed. Not the last: base64's final character
    carries spare bits, so some changes there decode to the same signature."""
    i = len(token) - 5
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]

