"""The size guard counts the HTML part as transmitted: at most 100,000 bytes, footer last."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.support.digests import BASE, digest, parse, recipient
from tests.support.sizes import long_bulletins, transmitted_html

DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
MID = "<size@syndicator.example>"
LIMIT = 100_000
COUNTS = (1, 2, 5, 10, 20, 30, 40, 55, 80)
VARIANTS = pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])
ENCODINGS = pytest.mark.parametrize("eightbit", [True, False], ids=["8BITMIME", "7bit"])


@pytest.fixture(scope="module")
def composer() -> DigestComposer:
    return DigestComposer(Settings())


def footer_problems(html: str, unsubscribe: str) -> list[str]:
    """The footer is present, holds the unsubscribe link, and nothing but closing tags follow."""
    end = html.rfind("</footer>")
    start = html.rfind("<footer")
    if start < 0 or end < start:
        return ["no footer"]
    problems = [] if unsubscribe.replace("&", "&amp;") in html[start:end] \
        else ["no unsubscribe link in the footer"]
    after = re.sub(r"<!--.*?-->", "", html[end + len("</footer>"):], flags=re.S)
    if re.sub(r"</[a-z]+>|\s", "", after):
        problems.append(f"content after the footer: {after[:120]!r}")
    if html.find("<main") > start:
        problems.append("the footer comes before the content")
    return problems


def named(html: str) -> tuple[int, int]:
    """(bulletins in full, bulletins counted only as "… và N tin khác")."""
    full = len(re.findall(r'<div\b[^>]*class="item"[^>]*\bid="tin-', html))
    rest = re.search(r"và (\d+) tin khác", html)
    return full, int(rest.group(1)) if rest else 0


@VARIANTS
@ENCODINGS
@pytest.mark.parametrize("n", COUNTS)
def test_the_html_part_as_sent_stays_within_the_limit(composer: DigestComposer, n: int,
                                                      large: bool, eightbit: bool) -> None:
    d, r = digest(bulletins=long_bulletins(n)), recipient(large=large)
    raw = composer.message(d, r, message_id=MID, date=DATE, eightbit=eightbit)
    cte, body = transmitted_html(raw)
    assert cte == ("8bit" if eightbit else "quoted-printable")
    assert len(body) <= LIMIT, (n, len(body))
    assert raw.isascii() is not eightbit
    assert max(len(line) for line in raw.split(b"\r\n")) <= (998 if eightbit else 78)
    html = parse(raw).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert footer_problems(html, r.unsubscribe_url) == []
    text = unescape(html)
    missing = [b.title for b in d.bulletins if b.title not in text]
    assert len(missing) == named(html)[1]  # every bulletin named, or counted where it says so


def test_8bit_fits_more_bulletins_in_full(composer: DigestComposer) -> None:
    d, r = digest(bulletins=long_bulletins(55)), recipient()
    seven = parse(composer.message(d, r, message_id=MID, date=DATE, eightbit=False))
    eight = parse(composer.message(d, r, message_id=MID, date=DATE, eightbit=True))
    full7 = named(seven.get_body(("html",)).get_content())[0]  # type: ignore[union-attr]
    full8 = named(eight.get_body(("html",)).get_content())[0]  # type: ignore[union-attr]
    assert full8 > full7 > 0


@pytest.mark.parametrize("name", ["\U0001F3DB" * 200, '"' * 200, "Phòng " * 40])
def test_long_names_never_push_the_footer_past_the_limit(composer: DigestComposer,
                                                         name: str) -> None:
    d, r = digest(bulletins=long_bulletins(80)), recipient(name=name)
    for eightbit in (True, False):
        raw = composer.message(d, r, message_id=MID, date=DATE, eightbit=eightbit)
        _, body = transmitted_html(raw)
        assert len(body) <= LIMIT
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        html = parse(raw).get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert footer_problems(html, r.unsubscribe_url) == []
        assert name.strip()[:50].replace('"', "&quot;") in html


def test_a_name_without_spaces_too_long_for_an_8bit_line_goes_7bit(
        composer: DigestComposer) -> None:
    r = recipient(name="Ủ" * 200)  # 600 bytes without a space to cut at
    raw = composer.message(digest(3), r, message_id=MID, date=DATE, eightbit=True)
    assert raw.isascii() and "Ủ" * 200 in parse(raw).get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_the_footer_check_catches_a_cut_footer(composer: DigestComposer) -> None:
    raw = composer.message(digest(2), recipient(), message_id=MID, date=DATE)
    html = parse(raw).get_body(("html",)).get_content()  # type: ignore[union-attr]
    unsub = recipient().unsubscribe_url
    assert footer_problems(html, unsub) == []
    assert footer_problems(html.replace("</footer>", "</footer><p>x</p>"), unsub)
    assert footer_problems(html.replace(unsub.replace("&", "&amp;"), f"{BASE}/x"), unsub)
    assert footer_problems(html[:html.rfind("<footer")], unsub)
