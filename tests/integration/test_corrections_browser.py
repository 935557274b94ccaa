"""The correction and withdrawal mails, a digest that carries corrections and a web copy's
banner, rendered in headless Chromium and measured as a reader sees them (both variants)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from syndicator.models.correction import Correction
from tests.integration.test_email_browser import (
    ARTIFACTS,
    MEASURE,
    NEEDS,
    _axe,
    browser,  # noqa: F401 - the module's Chromium, a fixture
    html_part,
)
from tests.support.digests import digest, parse, recipient

pytestmark = pytest.mark.browser
WHEN = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
LEAD = ("Sở Nội vụ hướng dẫn các cơ quan, đơn vị tổ chức tổng kết công tác thi đua, khen "
        "thưởng năm 2026. Hồ sơ đề nghị khen thưởng gửi về Sở trước ngày 20/11/2026. "
        "Mọi vướng mắc xin liên hệ phòng Thi đua - Khen thưởng.")


def corrected(withdrawn: bool = False) -> Correction:
    return Correction(
        bulletin_id=7, version=2, withdrawn=withdrawn,
        old_title="Hướng dẫn tổng kết công tác thi đua, khen thưởng năm 2026",
        title="Hướng dẫn tổng kết công tác thi đua, khen thưởng năm 2026 (bổ sung hồ sơ)",
        old_lead=LEAD, lead=LEAD.replace("20/11/2026", "30/11/2026"),
        url="https://sonoivu.backan.example/tin-tuc/huong-dan-tong-ket-thi-dua-2026.html",
        category="Thi đua - Khen thưởng", published_at=datetime(2026, 11, 10, 2, tzinfo=UTC),
        changed_at=WHEN)


def every_page(large: bool) -> dict[str, str]:
    composer, r = DigestComposer(Settings()), recipient(large=large)
    out = {kind: html_part(composer.correction(corrected(kind == "withdrawn"), r,
                                               message_id=f"<{kind}@x>", date=WHEN))
           for kind in ("corrected", "withdrawn")}
    held = replace(digest(3), corrections=(corrected(), corrected(True)))
    out["digest"] = html_part(composer.message(held, r, message_id="<d@x>", date=WHEN))
    out["web_copy"] = composer.web_copy(replace(digest(3), corrections=(corrected(),)),
                                        large=large)
    return out


@pytest.mark.parametrize("variant", ["standard", "large"])
@pytest.mark.parametrize("width,scheme", [(320, "light"), (1024, "dark")])
def test_corrections_read_well(browser: Any, variant: str, width: int,  # noqa: F811
                               scheme: str) -> None:
    body_px, heading_px, contrast, button_px = NEEDS[variant]
    for kind, html in every_page(variant == "large").items():
        page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
        page.set_default_timeout(60_000)
        try:
            page.set_content(html, wait_until="load")
            m = page.evaluate(MEASURE)
            seen = page.inner_text("main")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"correction-{kind}-{variant}-{width}-"
                                     f"{scheme}.png"), full_page=True)
            violations = _axe(page, enhanced=variant == "large")
        finally:
            page.close()
        assert m["lang"] == "vi", kind
        assert m["bodyMin"] >= body_px and m["lineHeightMin"] >= 1.5, (kind, m)
        assert m["headingMin"] >= heading_px and m["contrastMin"] >= contrast, (kind, m)
        assert m["scrollWidth"] <= m["viewport"], (kind, m)
        if kind != "withdrawn":  # a withdrawn bulletin has no current version to open
            assert m["buttonMin"] >= button_px, (kind, m)
            assert "30/11/2026" in seen and "Xem bản hiện hành" in seen, kind
        if kind != "web_copy":
            assert "Thu hồi" in seen or "Đính chính" in seen, kind
        assert violations == [], (kind, violations)


@pytest.mark.parametrize("large", [False, True])
def test_correction_mail_headers_and_budget(large: bool) -> None:
    composer = DigestComposer(Settings())
    long = replace(corrected(), lead=" ".join(f"Câu sửa thứ {i} dài dòng." * 20
                                              for i in range(40)))
    for c in (corrected(), corrected(True), long):
        msg = parse(composer.correction(c, recipient(large=large), message_id="<m@x>",
                                        date=WHEN, eightbit=False))
        assert str(msg["Subject"]) == ("Thu hồi: " if c.withdrawn else "Đính chính: ") + c.title
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "unsubscribe/tok-unsub-1" in str(msg["List-Unsubscribe"])
        assert msg["List-Id"] and msg["Message-ID"] == "<m@x>"
        html = next(p for p in msg.walk() if p.get_content_type() == "text/html")
        assert len(html.get_payload().encode("ascii")) <= 100_000  # as transmitted (QP)
        assert "Hủy đăng ký nhận bản tin" in html_part(msg.as_bytes())[-3000:]
