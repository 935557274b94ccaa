"""site.contact: a way to reach the department in the footer of every page and every mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.support.digests import digest, parse, recipient
from tests.support.pages import Site, make_site

CONTACT = {"address": "Số 8 đường Trường Chinh, TP Bắc Kạn", "phone": "0209 3870 123",
           "email": "lienhe@sonoivu.backan.example", "hours": "Thứ Hai đến thứ Sáu, 7:30–17:00"}
DATE = datetime(2026, 12, 5, 0, 5, tzinfo=UTC)


@pytest.fixture
def lite(sqlite_url: str, tmp_path: Path) -> Site:
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine: sa.Engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    return make_site(engine, tmp_path, site={"contact": CONTACT})


def footer(html: str) -> str:
    found = re.findall(r"<footer\b.*?</footer>", html, flags=re.S)
    assert found, "no footer"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[-1]))


def test_every_page_footer_says_how_to_reach_the_department(lite: Site) -> None:
    for path in ("/subscribe", "/manage", "/subscribe?size=large", "/confirm/not-a-token"):
        text = footer(lite.client.get(path).text)
        for value in CONTACT.values():
            assert value in text, (path, value)
        assert "mailto:lienhe@sonoivu.backan.example" in lite.client.get(path).text


def test_every_mail_says_how_to_reach_the_department() -> None:
    composer = DigestComposer(Settings(site={"contact": CONTACT}))
    r = recipient()
    raws = [composer.message(digest(3), r, message_id="<c@x>", date=DATE),
            composer.message(digest(3), recipient(large=True), message_id="<c@x>", date=DATE,
                             eightbit=True),
            composer.confirmation(r, confirm_url="http://127.0.0.1:8080/confirm/t.1",
                                  message_id="<c@x>", date=DATE)]
    raws += [composer.notice(r, kind, message_id="<c@x>", date=DATE)
             for kind in ("unsubscribed", "preferences_changed", "manage_link")]
    for raw in raws:
        msg = parse(raw)
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for value in CONTACT.values():
            assert value in footer(html) and value in plain, (msg["Subject"], value)


def test_a_contact_key_set_to_null_is_left_out() -> None:
    contact = CONTACT | {"phone": None}
    raw = DigestComposer(Settings(site={"contact": contact})).message(
        digest(1), recipient(), message_id="<c@x>", date=DATE)
    msg = parse(raw)
    text = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Điện thoại" not in text and CONTACT["address"] in text
    nothing = {k: None for k in CONTACT}
    raw = DigestComposer(Settings(site={"contact": nothing})).message(
        digest(1), recipient(), message_id="<c@x>", date=DATE)
    assert "Liên hệ" not in parse(raw).get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_a_contact_address_that_cannot_be_mailed_stops_the_start() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="contact.email"):
        Settings(site={"contact": {"email": "văn thư@example"}})


def test_the_feed_page_says_how_to_reach_the_department_too() -> None:
    from lxml import etree

    from syndicator.feeds.stylesheet import stylesheet_bytes

    xsl = stylesheet_bytes(Settings(site={"contact": CONTACT}))
    etree.fromstring(xsl)  # still well-formed XML for the browser's XSLT
    text = footer(xsl.decode("utf-8"))
    assert all(value in text for value in CONTACT.values())
