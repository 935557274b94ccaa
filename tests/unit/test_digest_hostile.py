"""Hostile bulletins and names cannot inject headers or markup; the size guard holds."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.compose.render import HTML_LIMIT
from syndicator.config.settings import Settings
from tests.support.digests import BASE, bulletin, digest, parse, recipient

DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
MID = "<hostile@syndicator.example>"
EXPECTED_HEADERS = {"date", "from", "to", "subject", "message-id", "list-id",
                    "list-unsubscribe", "list-unsubscribe-post", "mime-version",
                    "content-type", "auto-submitted", "x-auto-response-suppress"}


@pytest.fixture(scope="module")
def composer() -> DigestComposer:
    return DigestComposer(Settings())


class Tags(HTMLParser):
    """Every element and attribute a browser would build, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text += data


def bodies(msg: EmailMessage) -> tuple[str, str]:
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_header_injection_through_titles_and_names_is_impossible(
        composer: DigestComposer) -> None:
    evil = "Tin mới\r\nBcc: victim@example.org\r\n\r\n<b>body</b>"
    d = digest(frequency="immediate", bulletins=(bulletin(1, title=evil),))
    r = recipient(name="Phòng X\r\nBcc: victim@example.org\nX-Evil: 1")
    msg = parse(composer.message(d, r, message_id=MID, date=DATE))
    assert {k.lower() for k in msg.keys()} == EXPECTED_HEADERS
    assert msg["Subject"] == "Tin mới ngày 27/11/2023: Tin mới Bcc: victim@example.org <b>body</b>"
    assert "\n" not in msg["To"] and "victim" not in msg["To"].addresses[0].addr_spec
    assert len(msg["To"].addresses) == 1


def test_scripts_and_event_handlers_are_neutralised(composer: DigestComposer) -> None:
    b = bulletin(1, title='<script>alert("x")</script><img src=x onerror=alert(1)>',
                 summary='<p onclick="x()">Lead <script>steal()</script>'
                         '<img src="x" onerror="alert(1)"></p>',
                 author='"><svg onload=alert(1)>', category="<i>Chuyên mục</i>",
                 url="javascript:alert(1)")
    plain, html = bodies(parse(composer.message(digest(bulletins=(b, bulletin(2))), recipient(),
                                                message_id=MID, date=DATE)))
    tags = Tags()
    tags.feed(html)
    assert not {"script", "img", "svg", "i"} & {t for t, _ in tags.seen}
    assert not [a for _, attrs in tags.seen for a, _ in attrs if a.startswith("on")]
    assert not [v for _, attrs in tags.seen for _, v in attrs if "javascript:" in (v or "")]
    assert '<script>alert("x")</script>' in tags.text  # the title is shown as the text it is
    assert "steal()" not in html and "steal()" not in plain  # script content never shown


def test_control_characters_are_removed(composer: DigestComposer) -> None:
    b = bulletin(1, title="Thông\x1b[31m báo\x00 \x07mới\x0b\x7f", author="Tác\x08 giả")
    raw = composer.message(digest(bulletins=(b,)), recipient(name="Tên\x1b\x00 cơ quan"),
                           message_id=MID, date=DATE)
    plain, html = bodies(parse(raw))
    for ctrl in ("\x1b", "\x00", "\x07", "\x0b", "\x7f", "\x08"):
        assert ctrl not in plain and ctrl not in html
    assert "Thông[31m báo mới" in plain and "Tên cơ quan" in plain


def test_very_long_titles_are_clipped_and_lines_stay_legal(composer: DigestComposer) -> None:
    title = "Quyết định " + "phê duyệt kế hoạch cải cách hành chính " * 300
    raw = composer.message(digest(frequency="immediate", bulletins=(bulletin(1, title=title),)),
                           recipient(), message_id=MID, date=DATE)
    msg = parse(raw)
    subject = msg["Subject"]
    assert subject.startswith("Tin mới ngày 27/11/2023: Quyết định phê duyệt")
    assert len(subject) <= 160 and subject.endswith("…")
    head, body = raw.split(b"\r\n\r\n", 1)
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    plain, _ = bodies(msg)
    assert "Quyết định phê duyệt" in plain


def test_size_guard_with_60_bulletins(composer: DigestComposer) -> None:
    long_lead = "<p>" + ("Nội dung chi tiết của thông báo về công tác cán bộ. " * 30) + "</p>"
    items = tuple(bulletin(i, summary=long_lead) for i in range(1, 61))
    d = digest(bulletins=items, digest_id="2023-11-27-daily-60")
    msg = parse(composer.message(d, recipient(), message_id=MID, date=DATE))
    plain, html = bodies(msg)
    assert len(html.encode("utf-8")) < HTML_LIMIT
    assert all(b.title in html for b in items)  # every bulletin is at least a headline
    full = html.count(">Đọc tiếp</a>")
    assert 5 < full < 60
    assert "Các tin khác" in html and "CÁC TIN KHÁC" in plain
    assert f"{BASE}/digests/2023-11-27-daily-60" in html
    assert msg["Subject"].startswith("Bản tin Sở Nội vụ tỉnh Bắc Kạn: 60 tin mới")
    page = composer.web_copy(d, large=False)  # the web copy is complete
    assert page.count(">Đọc tiếp</a>") == 60


def test_size_guard_even_when_headlines_alone_are_too_many(composer: DigestComposer) -> None:
    items = tuple(bulletin(i, title=f"Tin số {i}: " + "tiêu đề rất dài " * 20)
                  for i in range(1, 801))
    d = digest(bulletins=items, digest_id="huge")
    msg = parse(composer.message(d, recipient(large=True), message_id=MID, date=DATE))
    _, html = bodies(msg)
    assert len(html.encode("utf-8")) < HTML_LIMIT
    assert "tin khác" in html and f"{BASE}/digests/huge?size=large" in html
    assert "Hủy đăng ký" in html  # the footer is never cut


def test_encoded_word_lookalikes_in_titles_stay_literal(composer: DigestComposer) -> None:
    title = "=?utf-8?b?R2nhuqMgbeG6oW8=?= Bcc"
    d = digest(frequency="immediate", bulletins=(bulletin(1, title=title),))
    msg = parse(composer.message(d, recipient(), message_id=MID, date=DATE))
    assert msg["Subject"] == f"Tin mới ngày 27/11/2023: {title}"


def test_a_site_title_with_markup_is_text_in_html_and_raw_in_text() -> None:
    """Shared Vietnamese texts interpolate config values: escaped for HTML, raw for text."""
    title = "Sở Nội vụ <i>tỉnh</i> & UBND"
    composer = DigestComposer(Settings(site={"title": title}))
    msg = parse(composer.message(digest(2), recipient(), message_id=MID, date=DATE))
    plain, html = bodies(msg)
    tags = Tags()
    tags.feed(html)
    assert "i" not in {tag for tag, _ in tags.seen}
    assert f"{title} trân trọng gửi Quý cơ quan" in tags.text
    assert "Sở Nội vụ &lt;i&gt;tỉnh&lt;/i&gt; &amp; UBND" in html
    assert f"{title} trân trọng gửi Quý cơ quan" in plain and "&amp;" not in plain
