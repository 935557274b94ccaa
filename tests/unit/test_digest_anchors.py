"""The contents jump inside the mail: every in-mail anchor resolves, each headline is listed
once, and the large variant offers a way back to the contents after every bulletin."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from html import unescape

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.support.digests import digest, parse, recipient
from tests.support.sizes import long_bulletins

DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
BACK = "Trở lại Nội dung chính"


def mail_html(n: int, large: bool, eightbit: bool = True) -> str:
    d = digest(bulletins=long_bulletins(n))
    raw = DigestComposer(Settings()).message(d, recipient(large=large), message_id="<a@x>",
                                             date=DATE, eightbit=eightbit)
    part = parse(raw).get_body(("html",))
    assert part is not None
    return part.get_content()


def anchor_problems(html: str) -> list[str]:
    """Every href="#x" names exactly one element with id="x"."""
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    targets = re.findall(r'href="#([^"]*)"', html)
    if not targets:
        return ["no in-mail link"]
    return [f"#{t} -> {ids[t]} elements" for t in targets if ids[t] != 1]


def headline_counts(html: str, titles: list[str]) -> dict[str, int]:
    """How often each title is shown as a link's text (the title itself, in the contents,
    under "Các tin khác"); the "Đọc tiếp" buttons name it only in aria-label."""
    links = [unescape(t) for t in re.findall(r"<a\b[^>]*>([^<]*)</a>", html)]
    return {t: links.count(t) for t in titles}


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])
@pytest.mark.parametrize("n", [2, 8, 55])
def test_every_in_mail_anchor_resolves(n: int, large: bool) -> None:
    assert anchor_problems(mail_html(n, large)) == []


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])
def test_each_headline_is_listed_once(large: bool) -> None:
    d = digest(bulletins=long_bulletins(55))
    html = mail_html(55, large)
    counts = headline_counts(html, [b.title for b in d.bulletins])
    full = set(re.findall(r'<div\b[^>]*\bid="tin-(\d+)"', html))
    assert 0 < len(full) < 55
    for b in d.bulletins:  # in full: the contents entry and the item's own title
        assert counts[b.title] == (2 if str(b.id) in full else 1), b.title


def test_the_contents_link_into_the_mail() -> None:
    html = mail_html(8, False)
    toc = re.search(r'<ol\b[^>]*class="toc"[^>]*>(.*?)</ol>', html, flags=re.S)
    assert toc is not None
    hrefs = re.findall(r'href="([^"]+)"', toc.group(1))
    assert len(hrefs) == 8 and all(h.startswith("#tin-") for h in hrefs)


def test_back_to_contents_after_each_item_in_the_large_variant() -> None:
    large, standard = mail_html(8, True), mail_html(8, False)
    assert large.count(BACK) == 8 and standard.count(BACK) == 0
    items = re.split(r'<div\b[^>]*class="item"', large)[1:]
    assert all(BACK in item for item in items)
    assert mail_html(1, True).count(BACK) == 0  # one bulletin, no contents to go back to


def test_the_checks_catch_a_dangling_anchor_and_a_doubled_headline() -> None:
    html = mail_html(8, False)
    assert anchor_problems(html.replace('id="tin-3"', 'id="tin-x"', 1))
    d = digest(bulletins=long_bulletins(8))
    doubled = html.replace("</main>", f'<p><a href="#">{d.bulletins[0].title}</a></p></main>')
    assert headline_counts(doubled, [d.bulletins[0].title])[d.bulletins[0].title] == 3
