"""Official-document details and attached files in mail: the line under the title, the
download list, in both variants, in the text part and on the web copy, within the budget."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from html import unescape

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from syndicator.models.bulletin import Attachment, Bulletin, DocumentDetails
from tests.support.digests import digest, parse, recipient
from tests.support.sizes import long_bulletins, transmitted_html
from tests.unit.test_digest_size import LIMIT, footer_problems, named

DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
MID = "<documents@syndicator.example>"
DOC = DocumentDetails(number="123/HD-SNV", issued_at=date(2023, 11, 20), issuer="Sở Nội vụ",
                      type="Hướng dẫn")
FILES = (Attachment("https://sonoivu.backan.example/uploads/2023/11/huong-dan-123.pdf",
                    "Hướng dẫn 123/HD-SNV", 250880, "application/pdf"),
         Attachment("https://sonoivu.backan.example/uploads/2023/11/phu-luc.docx",
                    "Phụ lục mẫu biểu", None,
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
LINE = "Số: 123/HD-SNV · Ban hành: 20/11/2023 · Sở Nội vụ"
VARIANTS = pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])


@pytest.fixture(scope="module")
def composer() -> DigestComposer:
    return DigestComposer(Settings())


def official(b: Bulletin, files: int = 2) -> Bulletin:
    return replace(b, document=DOC, attachments=(FILES * 10)[:files])


def _parts(raw: bytes) -> tuple[str, str]:
    msg = parse(raw)
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    return html, text


@VARIANTS
def test_the_document_line_and_the_files_in_both_parts(composer: DigestComposer,
                                                       large: bool) -> None:
    bulletins = long_bulletins(3)
    d = digest(bulletins=(official(bulletins[0]), *bulletins[1:]))
    raw = composer.message(d, recipient(large=large), message_id=MID, date=DATE)
    html, text = _parts(raw)
    shown = re.sub(r"<[^>]+>", "", unescape(html))
    assert shown.count(LINE) == 1
    assert "Tải về: Hướng dẫn 123/HD-SNV (PDF, 245 KB)" in shown
    assert "Tải về: Phụ lục mẫu biểu (DOCX)" in shown
    assert 'href="https://sonoivu.backan.example/uploads/2023/11/huong-dan-123.pdf"' in html
    assert text.count(LINE) == 1
    assert "Tải về: Hướng dẫn 123/HD-SNV (PDF, 245 KB)\n  https://sonoivu.backan.example/" \
        "uploads/2023/11/huong-dan-123.pdf" in text
    # The line sits under the title of its own bulletin, before the lead.
    first, second = bulletins[0].title, bulletins[1].title
    assert shown.index(first, shown.index("Nội dung chính") + 20) < shown.index(LINE) \
        < shown.index(second, shown.index(first, shown.index("Nội dung chính") + 20))


@VARIANTS
def test_the_web_copy_shows_them_too(composer: DigestComposer, large: bool) -> None:
    page = unescape(composer.web_copy(digest(bulletins=(official(long_bulletins(1)[0]),)),
                                      large=large))
    assert LINE in re.sub(r"<[^>]+>", "", page)
    assert "(PDF, 245 KB)" in page


def test_a_partial_document_says_only_what_it_has(composer: DigestComposer) -> None:
    b = replace(long_bulletins(1)[0], document=DocumentDetails(number="45/QĐ-SNV"))
    _, text = _parts(composer.message(digest(bulletins=(b,)), recipient(), message_id=MID,
                                      date=DATE))
    assert "Số: 45/QĐ-SNV\n" in text and "Ban hành" not in text


@VARIANTS
@pytest.mark.parametrize("eightbit", [True, False], ids=["8BITMIME", "7bit"])
@pytest.mark.parametrize("n", (1, 20, 55, 80))
def test_files_never_push_the_footer_past_the_limit(composer: DigestComposer, n: int,
                                                    large: bool, eightbit: bool) -> None:
    d = digest(bulletins=tuple(official(b, files=6) for b in long_bulletins(n)))
    r = recipient(large=large)
    raw = composer.message(d, r, message_id=MID, date=DATE, eightbit=eightbit)
    _, body = transmitted_html(raw)
    assert len(body) <= LIMIT, (n, len(body))
    html = parse(raw).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert footer_problems(html, r.unsubscribe_url) == []
    missing = [b.title for b in d.bulletins if b.title not in unescape(html)]
    assert len(missing) == named(html)[1]
