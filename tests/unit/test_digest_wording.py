"""The Vietnamese sentences a reader sees read naturally in every message and frequency."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from html import unescape

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.conftest import REPO
from tests.support.digests import digest, parse, recipient

DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
MID = "<wording@syndicator.example>"
SITE = "Sở Nội vụ tỉnh Bắc Kạn"
NO_REPLY = "Đây là thư gửi tự động, xin Quý cơ quan không trả lời thư này."
WHY = "Quý cơ quan nhận được thư này vì địa chỉ vanphong1@ubnd-babe.example đã đăng ký "


@pytest.fixture(scope="module")
def composer() -> DigestComposer:
    return DigestComposer(Settings())


def texts(msg: EmailMessage) -> tuple[str, str]:
    """Plain and HTML parts as a reader sees them: tags gone, lines unwrapped."""
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    body = html.get_content().split("<body", 1)[1]
    shown = unescape(re.sub(r"<!--.*?-->|<[^>]+>", " ", body, flags=re.DOTALL))
    return " ".join(plain.get_content().split()), " ".join(shown.split())


def every_message(composer: DigestComposer) -> dict[str, EmailMessage]:
    r = recipient()
    found = {f"digest-{f}": parse(composer.message(digest(2, frequency=f), r,
                                                   message_id=MID, date=DATE))
             for f in ("immediate", "daily", "weekly")}
    found["confirmation"] = parse(composer.confirmation(
        r, confirm_url="http://127.0.0.1:8080/confirm/t.1", message_id=MID, date=DATE))
    for kind in ("unsubscribed", "preferences_changed", "manage_link"):
        found[kind] = parse(composer.notice(r, kind, message_id=MID, date=DATE))
    return found


@pytest.mark.parametrize("frequency,subscribed", [
    ("immediate", f"nhận tin mới của {SITE} ngay khi được đăng."),
    ("daily", f"nhận bản tin hằng ngày của {SITE}."),
    ("weekly", f"nhận bản tin hằng tuần của {SITE}."),
])
def test_footer_says_why_in_a_natural_sentence(composer: DigestComposer, frequency: str,
                                               subscribed: str) -> None:
    msg = parse(composer.message(digest(2, frequency=frequency), recipient(),
                                 message_id=MID, date=DATE))
    plain, html = texts(msg)
    assert WHY + subscribed in plain
    assert WHY + subscribed in html
    assert "ngay khi có tin mới của" not in plain + html


def test_no_reply_note_is_said_once_and_politely(composer: DigestComposer) -> None:
    for name, msg in every_message(composer).items():
        plain, html = texts(msg)
        assert plain.count(NO_REPLY) == 1 and html.count(NO_REPLY) == 1, name
        assert "vui lòng" not in plain + html, name  # "xin ... vui lòng" says please twice


def test_no_reply_note_is_absent_when_replies_are_read() -> None:
    composer = DigestComposer(Settings(mail={"reply_to": "vanthu@sonoivu.backan.example"}))
    for name, msg in every_message(composer).items():
        plain, html = texts(msg)
        assert "không trả lời" not in plain + html, name


def test_confirmation_names_the_button_the_page_shows(composer: DigestComposer) -> None:
    page = (REPO / "templates" / "web" / "confirm.html.j2").read_text(encoding="utf-8")
    label = re.search(r'<button type="submit">([^<]+)</button>', page)
    assert label is not None, "the confirmation page's submit button moved"
    plain, html = texts(every_message(composer)["confirmation"])
    assert f"bấm nút “{label.group(1)}” trên trang vừa mở" in plain
    assert f"bấm nút “{label.group(1)}” trên trang vừa mở" in html
