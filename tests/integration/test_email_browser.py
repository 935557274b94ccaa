"""Both variants of a digest rendered in headless Chromium and measured as a reader sees them."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.conftest import REPO
from tests.support.browser import AXE, chromium
from tests.support.digests import bulletin, digest, recipient

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
# Per variant: minimum body px, heading px, contrast ratio, button px.
NEEDS = {"standard": (16, 20, 4.5, 44), "large": (24, 30, 7.0, 48)}
# Relative luminance of the page and the content panel: dark below, light above.
DARK_LUM, LIGHT_LUM = 0.05, 0.7

MEASURE = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
                            return (x + 0.05) / (y + 0.05); };
  const visible = el => el.getClientRects().length > 0 && el.textContent.trim() &&
                        getComputedStyle(el).visibility !== 'hidden';
  const texts = [...document.querySelectorAll('main p, main li, footer p, footer li')]
                .filter(visible);
  const all = [...document.querySelectorAll('p, li, a, h1, h2, h3, strong')].filter(visible);
  const px = el => parseFloat(getComputedStyle(el).fontSize);
  const lh = el => parseFloat(getComputedStyle(el).lineHeight) / px(el);
  return {
    bodyMin: Math.min(...texts.map(px)),
    lineHeightMin: Math.min(...texts.map(lh)),
    headingMin: Math.min(...[...document.querySelectorAll('main h1, main h2')]
                         .filter(visible).map(px)),
    contrastMin: Math.min(...all.map(el => ratio(rgb(getComputedStyle(el).color), background(el)))),
    buttonMin: Math.min(...[...document.querySelectorAll('a.button')].filter(visible)
                        .map(el => el.getBoundingClientRect().height)),
    bodyLum: lum(background(document.body)),
    panelLum: lum(background(document.querySelector('.container'))),
    scrollWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    lang: document.documentElement.lang,
  };
}"""


def html_part(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("html",))
    assert part is not None
    return part.get_content()


def sample_html(large: bool) -> str:
    items = (bulletin(1), bulletin(2, title="Quyết định về việc phê duyệt Đề án vị trí việc làm "
                                              "và cơ cấu ngạch công chức năm 2024"),
             bulletin(3, author=None, url="https://sonoivu.backan.example/tin-tuc/"
                      "quyet-dinh-so-1234-qd-ubnd-ve-viec-cong-nhan-danh-hieu-thi-dua-nam-2023"),
             bulletin(4, category=""), bulletin(5))
    composer = DigestComposer(Settings())
    return html_part(composer.message(
        digest(bulletins=items), recipient(large=large),
        message_id="<browser@syndicator.example>",
        date=datetime(2023, 11, 27, 0, 5, tzinfo=UTC)))



@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.mark.parametrize("variant", ["standard", "large"])
@pytest.mark.parametrize("width", [320, 375, 1024])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_variant_reads_well(browser: Any, variant: str, width: int, scheme: str) -> None:
    body_px, heading_px, contrast, button_px = NEEDS[variant]
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.set_default_timeout(60_000)
    try:
        page.set_content(sample_html(variant == "large"), wait_until="load")
        m = page.evaluate(MEASURE)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"email-{variant}-{width}-{scheme}.png"),
                        full_page=True)
        violations = _axe(page, enhanced=variant == "large")
    finally:
        page.close()
    assert m["lang"] == "vi"
    assert m["bodyMin"] >= body_px, m
    assert m["lineHeightMin"] >= 1.5, m
    assert m["headingMin"] >= heading_px, m
    assert m["contrastMin"] >= contrast, m
    assert m["buttonMin"] >= button_px, m
    if scheme == "dark":  # the @media rules won over the inline light colours
        assert m["bodyLum"] < DARK_LUM and m["panelLum"] < DARK_LUM, f"not dark: {m}"
    else:
        assert m["bodyLum"] > LIGHT_LUM and m["panelLum"] > LIGHT_LUM, f"not light: {m}"
    assert m["scrollWidth"] <= m["viewport"], f"horizontal scrolling: {m}"
    assert violations == [], violations


def _measure_at_320(browser: Any, html: str, *, enhanced: bool,
                    scheme: str = "light") -> tuple[dict[str, Any], list[Any]]:
    """The page's measurements and axe-core's violations at a phone's 320 px width."""
    page = browser.new_page(viewport={"width": 320, "height": 900}, color_scheme=scheme)
    try:
        page.set_content(html)
        return page.evaluate(MEASURE), _axe(page, enhanced=enhanced)
    finally:
        page.close()


def test_web_copy_reads_well_at_320(browser: Any) -> None:
    html = DigestComposer(Settings()).web_copy(digest(4), large=True)
    m, violations = _measure_at_320(browser, html, enhanced=True)
    assert m["bodyMin"] >= 24 and m["contrastMin"] >= 7 and m["scrollWidth"] <= 320, m
    assert violations == [], violations


@pytest.mark.parametrize("kind,large", [("confirmation", True), ("confirmation", False),
                                        ("unsubscribed", True), ("preferences_changed", False),
                                        ("manage_link", True)])
def test_transactional_mail_reads_well(browser: Any, kind: str, large: bool) -> None:
    composer, r = DigestComposer(Settings()), recipient(large=large)
    when = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
    raw = (composer.confirmation(r, confirm_url="http://127.0.0.1:8080/confirm/t.1",
                                 message_id="<c@x>", date=when) if kind == "confirmation"
           else composer.notice(r, kind, message_id="<n@x>", date=when))
    body_px, _, contrast, _ = NEEDS["large" if large else "standard"]
    m, violations = _measure_at_320(browser, html_part(raw), enhanced=large)
    assert m["bodyMin"] >= body_px and m["contrastMin"] >= contrast, m
    assert m["scrollWidth"] <= 320 and m["lineHeightMin"] >= 1.5, m
    assert violations == [], violations


def test_size_guarded_digest_reads_well(browser: Any) -> None:
    lead = "<p>" + "Nội dung chi tiết của thông báo về công tác cán bộ. " * 30 + "</p>"
    items = tuple(bulletin(i, summary=lead) for i in range(1, 61))
    raw = DigestComposer(Settings()).message(
        digest(bulletins=items, digest_id="guard"), recipient(large=True),
        message_id="<g@x>", date=datetime(2023, 11, 27, 0, 5, tzinfo=UTC))
    html = html_part(raw)
    assert len(html.encode("utf-8")) < 100_000 and "Các tin khác" in html
    m, violations = _measure_at_320(browser, html, enhanced=True)
    assert m["bodyMin"] >= 24 and m["contrastMin"] >= 7 and m["scrollWidth"] <= 320, m
    assert violations == [], violations


PREHEADER_SEEN = """() => {
  const el = document.querySelector('.preheader');
  const r = el.getBoundingClientRect();
  const bg = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e)
    .backgroundColor; if (c !== 'rgba(0, 0, 0, 0)') return c; } return 'rgb(255, 255, 255)'; };
  return {height: r.height, text: el.textContent.trim().length,
          color: getComputedStyle(el).color, background: bg(el.parentElement)};
}"""


def without(html: str, properties: str) -> str:
    """The mail as a client sees it that drops <style> and these inline properties."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r'(<div class="preheader"[^>]*style=")([^"]*)"',
                  lambda m: m.group(1) + re.sub(rf"({properties}):[^;]*;?", "", m.group(2))
                  + '"', html)


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])
def test_preheader_stays_hidden_without_display_none(browser: Any, large: bool) -> None:
    """Gmail's mobile webmail drops <style>, display:none and opacity (caniemail); were it to
    drop max-height and max-width too, a 1px line in the background's colour is all left."""
    html = sample_html(large)
    page = browser.new_page(viewport={"width": 375, "height": 900})
    try:
        page.set_content(without(html, "display|opacity"))
        gmail = page.evaluate(PREHEADER_SEEN)
        page.set_content(without(html, "display|opacity|max-height|max-width"))
        worst = page.evaluate(PREHEADER_SEEN)
    finally:
        page.close()
    assert gmail["text"] > 0 and gmail["height"] == 0, gmail
    assert worst["height"] <= 2 and worst["color"] == worst["background"], worst


def test_the_checks_catch_a_bad_email(browser: Any) -> None:
    """The same measurements on a deliberately broken copy: they must fail it."""
    bad = sample_html(False).replace(
        "</head>", "<style>p, li { color: #9a9a9a !important; font-size: 12px !important; }"
        " .content { min-width: 700px; }</style></head>")
    m, violations = _measure_at_320(browser, bad, enhanced=False)
    assert m["bodyMin"] < 16 and m["contrastMin"] < 4.5 and m["scrollWidth"] > 320
    assert "color-contrast" in {v["id"] for v in violations}
    # Without its dark-scheme rules (css-inline without keep_at_rules) a copy stays light.
    html = sample_html(False)
    start = html.index("@media (prefers-color-scheme: dark)")
    light = html[:start] + html[html.index("\n}", start) + 2:]
    m, _ = _measure_at_320(browser, light, enhanced=False, scheme="dark")
    assert m["bodyLum"] > LIGHT_LUM and m["panelLum"] > LIGHT_LUM, m


def _axe(page: Any, *, enhanced: bool) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    rules = {"color-contrast-enhanced": {"enabled": True}} if enhanced else {}
    result = page.evaluate("rules => axe.run(document, {rules})", rules)
    return [{"id": v["id"], "help": v["help"],
             "nodes": [n["html"][:160] for n in v["nodes"][:3]]} for v in result["violations"]]
