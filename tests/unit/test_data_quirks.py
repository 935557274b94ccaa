"""Data quirks of issue 12: bidirectional controls, URLs that are not URIs, categories that
fold to one slug, bodies too long for a feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicator.feeds.model import ContentCap, to_entry
from syndicator.ingest.sanitize import as_uri, sanitize_html
from syndicator.models.text import category_key, clean_text, distinct_slug, one_line, slugify
from syndicator.planning.audience import Audience, plan, slug_lookup
from syndicator.subscribers.rules import resolve_categories
from tests.feeds_support import bulletin

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def test_bidirectional_controls_are_stripped() -> None:
    title = "Thông báo \u202eKẾT QUẢ\u202c tuyển dụng \u2066x\u2069"
    assert one_line(title) == "Thông báo KẾT QUẢ tuyển dụng x"
    assert not set(BIDI) & set(clean_text(f"<p>{BIDI}ý kiến</p>"))


@pytest.mark.parametrize("raw,uri", [
    ("https://p.example/tin tức/a b.html", "https://p.example/tin%20t%E1%BB%A9c/a%20b.html"),
    ('https://p.example/"x"/<y>', "https://p.example/%22x%22/%3Cy%3E"),
    ("https://p.example/a?q=c d&e=%zz#m n", "https://p.example/a?q=c%20d&e=%25zz#m%20n"),
    ("https://p.example/ok%20already?a=1", "https://p.example/ok%20already?a=1"),
    ("https://sở.example:8443/x", "https://xn--s-lym.example:8443/x"),
    ("http://[::1]:8080/a b", "http://[::1]:8080/a%20b"),
])
def test_urls_become_rfc3986_uris(raw: str, uri: str) -> None:
    assert as_uri(raw) == uri
    assert as_uri(uri) == uri  # a URI stays as it is


@given(st.text(max_size=40))
def test_any_url_becomes_a_uri(path: str) -> None:
    assert URI.fullmatch(as_uri("https://p.example/" + path))


def test_links_in_bodies_are_uris() -> None:
    html = sanitize_html('<a href="/văn bản/a b.pdf">tệp</a><img src="/ảnh 1.png">',
                         "https://p.example/")
    assert 'href="https://p.example/v%C4%83n%20b%E1%BA%A3n/a%20b.pdf"' in html
    assert 'src="https://p.example/%E1%BA%A3nh%201.png"' in html


def test_names_folding_to_one_slug_are_two_categories() -> None:
    assert slugify("Chuyển đổi số") == slugify("Chuyen doi so") == "chuyen-doi-so"
    assert category_key("Chuyển đổi số") != category_key("Chuyen doi so")
    assert category_key("Thi đua - Khen thưởng") == category_key("THI ĐUA – KHEN THƯỞNG")
    assert distinct_slug("Chuyen doi so") == distinct_slug("chuyen  doi-so")
    assert re.fullmatch(r"chuyen-doi-so-[0-9a-f]{6}", distinct_slug("Chuyen doi so"))


def test_subscribers_name_either_category_by_name_or_slug() -> None:
    known = ["Chuyển đổi số", "Chuyen doi so"]  # in the order they were first used
    assert resolve_categories(["chuyen doi so"], known) == ("Chuyen doi so",)
    assert resolve_categories(["chuyen-doi-so"], known) == ("Chuyển đổi số",)
    assert resolve_categories([distinct_slug("Chuyen doi so")], known) == ("Chuyen doi so",)


def test_each_category_reaches_its_own_subscribers() -> None:
    t = datetime(2026, 12, 1, tzinfo=UTC)
    ours = [bulletin(1, category="Chuyển đổi số", category_slug="chuyen-doi-so",
                     first_seen_at=t),
            bulletin(2, category="Chuyen doi so", category_slug=distinct_slug("Chuyen doi so"),
                     first_seen_at=t)]
    slug_of = slug_lookup({"Chuyển đổi số": "chuyen-doi-so",
                           "Chuyen doi so": distinct_slug("Chuyen doi so")})
    contents = plan(ours, [Audience(10, ("Chuyen doi so",), t),
                           Audience(11, ("Chuyển đổi số",), t)], slug_of)
    assert {c.subscriber_ids: c.bulletin_ids for c in contents} == {(10,): (2,), (11,): (1,)}


def test_a_long_body_is_cut_in_feeds_with_a_link_to_the_full_text() -> None:
    body = "".join(f"<p>Đoạn {i}: <b>nội dung</b> rất dài.</p>" for i in range(200_000))
    b = bulletin(1, body_html=body, url="https://p.example/tin/1")
    entry = to_entry("h.example", b, cap=ContentCap(100_000, "Xem toàn văn"))
    assert entry.content_html is not None
    assert len(entry.content_html.encode()) < 100_100
    assert entry.content_html.endswith('<p><a href="https://p.example/tin/1">Xem toàn văn</a></p>')
    assert entry.content_html.count("<p>") == entry.content_html.count("</p>")
    assert to_entry("h.example", b).content_html == body  # no cap: whole
    short = bulletin(2, body_html="<p>ngắn</p>")
    assert to_entry("h.example", short, cap=ContentCap(100, "x")).content_html == "<p>ngắn</p>"
