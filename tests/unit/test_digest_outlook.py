"""What Outlook for Windows (Word's engine) and the webmails that drop <html> rely on."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.support.digests import digest, parse, recipient

DATE = datetime(2026, 12, 5, 0, 5, tzinfo=UTC)
VARIANTS = pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])
VML = re.compile(r"<!--\[if mso\]>\s*<v:roundrect\b(?P<attrs>[^>]*)>(?P<body>.*?)</v:roundrect>"
                 r"\s*<!\[endif\]-->\s*<!--\[if !mso\]><!-->\s*(?P<html><table\b.*?</table>)"
                 r"\s*<!--<!\[endif\]-->", re.S)


def htmls(large: bool) -> dict[str, str]:
    composer, r = DigestComposer(Settings()), recipient(large=large)
    raws = {"digest": composer.message(digest(4), r, message_id="<o@x>", date=DATE,
                                       eightbit=True),
            "confirmation": composer.confirmation(r, confirm_url="http://127.0.0.1:8080/c/t.1",
                                                  message_id="<o@x>", date=DATE),
            "manage_link": composer.notice(r, "manage_link", message_id="<o@x>", date=DATE)}
    out = {k: parse(v).get_body(("html",)).get_content()  # type: ignore[union-attr]
           for k, v in raws.items()}
    out["web copy"] = composer.web_copy(digest(4), large=large)
    return out


def button_problems(html: str) -> list[str]:
    """Each button is a VML roundrect for Outlook (>= 44 px, same link and label) followed by
    its HTML twin hidden from Outlook."""
    buttons = re.findall(r'<a\b[^>]*class="button"', html)
    pairs = list(VML.finditer(html))
    problems = [] if buttons and len(pairs) == len(buttons) else \
        [f"{len(buttons)} buttons, {len(pairs)} with a VML twin"]
    for m in pairs:
        height = re.search(r"height:(\d+)px", m.group("attrs"))
        href = re.search(r'href="([^"]+)"', m.group("attrs"))
        link = re.search(r'<a\b[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', m.group("html"))
        label = re.search(r"<center\b[^>]*>([^<]+)</center>", m.group("body"))
        if not height or int(height.group(1)) < 44:
            problems.append(f"VML height {height and height.group(1)}")
        if not (href and link and label) or href.group(1) != link.group(1) \
                or unescape(label.group(1)) != unescape(link.group(2)):
            problems.append(f"VML and HTML buttons differ: {m.group(0)[:200]}")
    return problems


@VARIANTS
def test_buttons_are_whole_in_outlook(large: bool) -> None:
    for name, html in htmls(large).items():
        assert button_problems(html) == [], name


@VARIANTS
def test_the_outlook_column_is_fixed_standard_and_fluid_large(large: bool) -> None:
    for name, html in htmls(large).items():
        tables = re.findall(r"<!--\[if mso\]><table\b([^>]*)>", html)
        assert len(tables) == 1, name
        assert f'width="{"100%" if large else "640"}"' in tables[0], name


@VARIANTS
def test_language_and_direction_survive_a_stripped_html_element(large: bool) -> None:
    for name, html in htmls(large).items():
        body = html.split("<body", 1)[1]
        wrapper = re.search(r'<div class="wrapper"([^>]*)>', body)
        assert wrapper and 'lang="vi"' in wrapper.group(1) and 'dir="ltr"' in wrapper.group(1)
        assert body.index("<main") > wrapper.end() and body.rindex("</footer>") < \
            body.rindex("</div>"), name


def test_the_checks_catch_a_padding_only_button() -> None:
    html = htmls(False)["digest"]
    broken = VML.sub(lambda m: m.group("html"), html, count=1)
    assert button_problems(broken)
    low = html.replace("height:48px", "height:30px", 1)
    assert button_problems(low)
