"""VERP tags: signed, short, case-insensitive; and the bounces settings that carry them."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from syndicator.compose.verp import MAX_TAG_LENGTH, DeliveryTag, UnsubscribeTag, Verp
from syndicator.config.bounces import BounceImapSettings, BounceSettings, parse_imap_url

VERP = Verp("bounces@bounce.example.gov.vn", "secret-one")


def test_a_delivery_tag_reads_back_and_fits_in_64_octets() -> None:
    address = VERP.envelope_sender(10**15 - 1)
    assert VERP.read(address) == DeliveryTag(10**15 - 1)
    assert len(address.split("@")[0]) <= 64
    assert address.endswith("@bounce.example.gov.vn")


def test_an_unsubscribe_tag_reads_back_and_fits() -> None:
    address = VERP.unsubscribe_address(10**15 - 1, 10**15 - 1)
    assert VERP.read(address) == UnsubscribeTag(10**15 - 1, 10**15 - 1)
    assert len(address.split("@")[0]) == len("bounces+") + MAX_TAG_LENGTH


@pytest.mark.parametrize("form", [
    "{a}", "{A}", "<{a}>", "Mail System <{a}>", "  {a}  ", "{local}@relay.internal",
])
def test_tags_read_in_every_form_a_header_writes_them(form: str) -> None:
    a = VERP.envelope_sender(42)
    text = form.format(a=a, A=a.upper(), local=a.split("@")[0])
    assert VERP.read(text) == DeliveryTag(42)


@pytest.mark.parametrize("address", [
    "bounces@bounce.example.gov.vn", "someone+42-abcdefghij@bounce.example.gov.vn",
    "bounces+42@bounce.example.gov.vn", "bounces+42-abcdefghi@bounce.example.gov.vn",
    "bounces+u-1-abcdefghij@bounce.example.gov.vn", "", "not an address", "bounces+",
])
def test_other_and_garbled_addresses_read_as_none(address: str) -> None:
    assert VERP.read(address) is None


def test_a_changed_number_or_another_secret_fails_the_mac() -> None:
    address = VERP.envelope_sender(42)
    assert VERP.read(address.replace("+42-", "+43-")) is None
    assert Verp("bounces@bounce.example.gov.vn", "secret-two").read(address) is None


def test_a_delivery_mac_is_no_unsubscribe_mac() -> None:
    # Same numbers, other purpose: a bounce address must not unsubscribe subscriber 42.
    mac = VERP.envelope_sender(42).split("@")[0].rsplit("-", 1)[1]
    assert VERP.read(f"bounces+u-42-0-{mac}@x") is None


def test_a_new_token_version_voids_the_old_mailto() -> None:
    old = VERP.unsubscribe_address(7, 0)
    forged = old.replace("u-7-0-", "u-7-1-")
    assert VERP.read(forged) is None


def test_scan_finds_valid_tags_in_text_and_skips_forged_ones() -> None:
    text = (f"Return-path: <{VERP.envelope_sender(5)}>\n"
            "To: bounces+6-aaaaaaaaaa@bounce.example.gov.vn\n"
            f"List-Unsubscribe: <mailto:{VERP.unsubscribe_address(9, 1)}>")
    assert VERP.scan(text) == [DeliveryTag(5), UnsubscribeTag(9, 1)]


def test_numbers_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError):
        VERP.envelope_sender(-1)
    with pytest.raises(ValueError):
        VERP.envelope_sender(10**15)


def test_return_path_rules() -> None:
    assert BounceSettings(return_path="Bounces@Bounce.Example.gov.vn").return_path == (
        "Bounces@bounce.example.gov.vn")
    for bad in ("bounces+x@bounce.example", "x" * 21 + "@bounce.example", "no-at-sign"):
        with pytest.raises(ValidationError):
            BounceSettings(return_path=bad)


def test_imap_url_parts() -> None:
    t = parse_imap_url("imaps://b%40x.vn:p%3Ass@mail.x.vn/Bounces")
    assert (t.implicit_tls, t.host, t.port, t.username, t.password, t.mailbox) == (
        True, "mail.x.vn", 993, "b@x.vn", "p:ss", "Bounces")
    t = parse_imap_url("imap://u:p@mail.x.vn:1143")
    assert (t.implicit_tls, t.port, t.mailbox) == (False, 1143, "INBOX")
    assert "p:ss" not in repr(parse_imap_url("imaps://u:p%3Ass@h/INBOX"))


@pytest.mark.parametrize("url", [
    "pop3://u:p@h/INBOX", "imaps://h/INBOX", "imaps://u@h/INBOX", "imaps://u:p@h:99999/",
    "imaps://u:p@h/Th%C6%B0", 'imaps://u:p@h/"x"',
])
def test_bad_imap_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        BounceImapSettings(url=SecretStr(url))


def test_the_settings_know_the_longest_tag() -> None:
    """config.bounces checks return_path lengths with its own copy of the longest tag."""
    from syndicator.config import bounces

    assert bounces.MAX_TAG_LENGTH == MAX_TAG_LENGTH
