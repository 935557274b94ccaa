"""A digest with an official document and its files, in headless Chromium, as a reader sees
it: the line under the title and the download list are visible text, in both variants, and
the page still passes the variant's size, contrast and axe-core checks at 320 px."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.integration.test_email_browser import NEEDS, _measure_at_320, html_part
from tests.support.browser import chromium
from tests.support.digests import bulletin, digest, recipient
from tests.unit.test_digest_documents import DOC, FILES, LINE

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.mark.parametrize("variant", ["standard", "large"])
def test_document_line_and_files_as_a_reader_sees_them(browser: Any, variant: str) -> None:
    large = variant == "large"
    items = (replace(bulletin(1), document=DOC, attachments=FILES), bulletin(2))
    raw = DigestComposer(Settings()).message(
        digest(bulletins=items), recipient(large=large), message_id="<doc@x>",
        date=datetime(2023, 11, 27, 0, 5, tzinfo=UTC))
    html = html_part(raw)
    page = browser.new_page(viewport={"width": 320, "height": 900})
    try:
        page.set_content(html)
        seen = page.inner_text("main")
    finally:
        page.close()
    assert LINE in seen
    assert "Tải về: Hướng dẫn 123/HD-SNV (PDF, 245 KB)" in seen
    assert "Tải về: Phụ lục mẫu biểu (DOCX)" in seen
    body_px, _, contrast, _ = NEEDS[variant]
    m, violations = _measure_at_320(browser, html, enhanced=large)
    assert m["bodyMin"] >= body_px and m["contrastMin"] >= contrast, m
    assert m["scrollWidth"] <= 320, m
    assert violations == [], violations
