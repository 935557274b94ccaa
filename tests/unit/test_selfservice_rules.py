"""Pure rules of the subscriber pages: allowed domains, client rate window, form tokens, what a
confirmation link may still do."""

from __future__ import annotations

import time

import pytest
from itsdangerous.timed import TimestampSigner
from starlette.requests import Request

from syndicator.subscribers.policy import SlidingWindow, confirmation_state, domain_allowed
from syndicator.web.forms import FORM_MAX_AGE, FormTokens, client_address


@pytest.mark.parametrize("address,patterns,ok", [
    ("a@gmail.com", [], True),
    ("vanthu@backan.gov.vn", ["*.gov.vn"], True),
    ("vanthu@SoNoiVu.BacKan.GOV.VN", ["*.gov.vn"], True),
    ("vanthu@gov.vn", ["*.gov.vn"], False),
    ("x@evil-gov.vn", ["*.gov.vn"], False),
    ("x@gov.vn.evil.com", ["*.gov.vn"], False),
    ("a@gmail.com", ["*.gov.vn"], False),
    ("a@backan.gov.vn", ["backan.gov.vn", "*.edu.vn"], True),
    ("a@x.backan.gov.vn", ["backan.gov.vn"], False),
])
def test_domain_allowed(address: str, patterns: list[str], ok: bool) -> None:
    assert domain_allowed(address, patterns) is ok


def test_sliding_window_counts_per_key_and_forgets_old_hits() -> None:
    now = [1000.0]
    window = SlidingWindow(2, 3600, clock=lambda: now[0])
    assert [window.hit("a"), window.hit("a"), window.hit("a"), window.hit("b")] == \
        [True, True, False, True]
    now[0] += 3599
    assert not window.hit("a")
    now[0] += 2
    assert window.hit("a") and window.hit("a") and not window.hit("a")


def test_sliding_window_is_bounded_and_can_be_off() -> None:
    window = SlidingWindow(1, 60, max_keys=3)
    for key in "abcd":
        assert window.hit(key)
    assert window.hit("a")  # evicted as the oldest key: memory stays bounded
    off = SlidingWindow(0, 60)
    assert all(off.hit("x") for _ in range(100))


def test_form_tokens_bind_purpose_page_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    forms = FormTokens("secret")
    token = forms.make("unsubscribe", "link-token-1", "v1")
    assert forms.check(token, "unsubscribe", "link-token-1")["c"] == "v1"  # type: ignore[index]
    assert forms.check(token, "preferences", "link-token-1") is None
    assert forms.check(token, "unsubscribe", "link-token-2") is None
    assert forms.check(_tampered(token), "unsubscribe", "link-token-1") is None
    assert FormTokens("other").check(token, "unsubscribe", "link-token-1") is None
    assert forms.check("", "unsubscribe", "link-token-1") is None
    assert forms.make("subscribe") != forms.make("subscribe")  # a nonce per rendering
    old = int(time.time()) - FORM_MAX_AGE - 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: old)
    stale = forms.make("subscribe")
    monkeypatch.undo()
    assert forms.check(stale, "subscribe") is None


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


def test_client_address_trusts_only_configured_proxies() -> None:
    assert client_address(_request("203.0.113.9", "1.2.3.4"), []) == "203.0.113.9"
    assert client_address(_request("10.0.0.2", "1.2.3.4"), ["10.0.0.1"]) == "10.0.0.2"
    # Behind our proxy, the nearest address it did not add is the client (spoofed left parts
    # are ignored).
    assert client_address(_request("10.0.0.1", "6.6.6.6, 1.2.3.4"), ["10.0.0.1"]) == "1.2.3.4"
    assert client_address(_request("10.0.0.1", "garbage"), ["10.0.0.1"]) == "10.0.0.1"


@pytest.mark.parametrize("status,request_id,left,state", [
    ("pending", 5, None, "open"),
    ("pending", None, None, "open"),  # a link mailed before links carried their request
    ("active", 5, None, "active"),  # confirming twice is harmless
    ("unsubscribed", 5, 9, "closed"),  # mailed before unsubscribing: must not bring it back
    ("bounced", 5, 9, "closed"),
    ("unsubscribed", None, 9, "closed"),
    ("unsubscribed", 12, 9, "open"),  # a new request after unsubscribing: double opt-in again
    ("bounced", 12, 9, "open"),
])
def test_confirmation_state(status: str, request_id: int | None, left: int | None,
                            state: str) -> None:
    assert confirmation_state(status, request_id, left) == state


def _tampered(token: str) -> str:
    """The token with one signature character changed. Not the last: base64's final character
    carries spare bits, so some changes there decode to the same signature."""
    i = len(token) - 5
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]

