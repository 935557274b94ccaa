"""Subscriber pages against a real state database: double opt-in, safe links, abuse controls."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from itsdangerous.timed import TimestampSigner

from syndicator.cli import cli
from syndicator.state import subscribers as store
from syndicator.state.schema import consent_events, subscribers
from tests.support.pages import Site, form_token, main_text, make_site


@pytest.fixture
def site(state: sa.Engine, tmp_path: Path) -> Site:
    return make_site(state, tmp_path)


@pytest.fixture
def lite(sqlite_url: str, tmp_path: Path) -> Site:
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    return make_site(engine, tmp_path)


def confirmed(site: Site, address: str, **fields: str) -> Site:
    assert site.subscribe(address, **fields).status_code == 200
    confirm = site.link(site.mails(address)[-1], "confirm")
    assert site.post_page(confirm).status_code == 200
    assert site.subscriber(address).status == "active"
    site.mailed_long_ago()  # confirmation and manage-link mails share one slot an hour
    site.request_manage(address)  # the newest mail now holds preferences and unsubscribe links
    return site


def test_double_opt_in_and_whole_consent_history(site: Site, tmp_path: Path) -> None:
    r = site.subscribe("VanThu@BaBe.gov.vn", name="UBND huyện Ba Bể", frequency="weekly")
    assert r.status_code == 200 and "Xin kiểm tra hộp thư" in r.text
    assert site.subscriber("vanthu@babe.gov.vn").status == "pending"
    [mail] = site.mails("babe.gov.vn")
    assert mail["Subject"].startswith("Xác nhận đăng ký")
    confirm = site.link(mail, "confirm")
    page = site.client.get(confirm)
    assert "UBND huyện Ba Bể" in page.text and "Hằng tuần" in page.text
    assert site.subscriber("vanthu@babe.gov.vn").status == "pending"
    done = site.client.post(confirm, data={"form_token": form_token(page.text)})
    assert done.status_code == 200 and "Đã xác nhận đăng ký" in done.text
    assert site.subscriber("vanthu@babe.gov.vn").status == "active"
    site.mailed_long_ago()  # confirmation and manage-link mails share one slot an hour
    site.request_manage("vanthu@babe.gov.vn")
    site.client.post(site.link(site.mails("babe.gov.vn")[-1], "unsubscribe"),
                     content=b"List-Unsubscribe=One-Click",
                     headers={"content-type": "application/x-www-form-urlencoded"})

    result = _cli(site, tmp_path, "subscribers", "consent", "vanthu@babe.gov.vn")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["subscriber"]["status"] == "unsubscribed"
    events = [(e["event"], e["source"]) for e in record["events"]]
    assert events == [("subscribed", "form"), ("confirmation_sent", "web"),
                      ("confirmed", "confirm-link"), ("manage_link_sent", "web"),
                      ("unsubscribed", "one-click")]
    first, confirm_event = record["events"][0], record["events"][2]
    assert "bản tin qua thư điện tử" in first["detail"]["consent"]["text"]
    assert first["detail"]["consent"]["version"] == confirm_event["detail"]["consent"]["version"]
    assert first["detail"]["frequency"] == "weekly" and first["detail"]["client"]
    assert all(e["at"] for e in record["events"])


def test_no_emailed_link_changes_anything_on_get(site: Site) -> None:
    confirmed(site, "a@x.gov.vn")
    site.subscribe("b@x.gov.vn")  # a pending one, with its confirmation link unused
    links = [link for msg in site.mails() for link in site.links(msg)]
    assert {p.split("/")[1] for p in links} == {"confirm", "preferences", "unsubscribe"}
    before = site.snapshot()
    for path in links:
        for suffix in ("", "?size=large", "?size=standard"):
            assert site.client.get(path + suffix).status_code == 200
            assert site.client.head(path + suffix).status_code == 200
    assert site.snapshot() == before


@pytest.mark.parametrize("mangle", ["forged", "altered", "cross-purpose", "truncated"])
def test_bad_tokens_are_refused_politely(lite: Site, mangle: str) -> None:
    confirmed(lite, "a@x.gov.vn")
    confirm = lite.link(lite.mails()[0], "confirm")
    unsubscribe = lite.link(lite.mails()[-1], "unsubscribe")
    token = unsubscribe.rsplit("/", 1)[1]
    swapped = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    path = {"forged": "/preferences/WzEsMF0.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "altered": f"/unsubscribe/{swapped}",
            "cross-purpose": f"/preferences/{token}",
            "truncated": unsubscribe[:-10]}[mangle]
    before = lite.snapshot()
    for method in ("GET", "POST"):
        r = lite.client.request(method, path, data={"List-Unsubscribe": "One-Click"}
                                if method == "POST" else None)
        assert r.status_code == 400, (mangle, method, r.status_code)
        assert "Đường dẫn không hợp lệ" in r.text and r.headers["cache-control"] == "no-store"
    assert lite.snapshot() == before
    for good in (confirm, unsubscribe):  # the real links still work after all that
        assert lite.client.get(good).status_code == 200


def test_expired_confirmation_and_reset_links(lite: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    eight_days_ago = int(time.time()) - 8 * 86400
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
    lite.subscribe("late@x.gov.vn")
    lite.deliver()  # the link is signed when the mail is composed
    monkeypatch.undo()
    mail = lite.mails("late@x.gov.vn")[-1]
    for method in ("GET", "POST"):
        r = lite.client.request(method, lite.link(mail, "confirm"))
        assert r.status_code == 410 and "Đường dẫn đã hết hạn" in r.text
    assert lite.subscriber("late@x.gov.vn").status == "pending"
    # Manage links do not expire, but a reset of the subscriber's links retires them.
    lite.mailed_long_ago()
    lite.request_manage("late@x.gov.vn")
    unsubscribe = lite.link(lite.mails("late@x.gov.vn")[-1], "unsubscribe")
    assert lite.client.get(unsubscribe).status_code == 200
    from syndicator.subscribers.operator import reset_links

    reset_links(lite.engine, "late@x.gov.vn")
    r = lite.client.get(unsubscribe)
    assert r.status_code == 410 and "không còn hiệu lực" in r.text


def test_a_mail_stamped_in_the_future_does_not_hold_the_next_one(site: Site) -> None:
    """A clock that ran ahead and was set back (ADR 015) left a stamp in the future: it must
    not hold this address's mail until the clock catches up."""
    assert site.subscribe("ahead@y.gov.vn").status_code == 200
    with site.engine.begin() as conn:
        conn.execute(consent_events.update().values(at=datetime.now(UTC) + timedelta(days=30)))
    assert site.request_manage("ahead@y.gov.vn").status_code == 200
    assert site.events("ahead@y.gov.vn")[-1] == "manage_link_sent"


def test_one_mail_per_address_per_hour_across_replicas(site: Site, tmp_path: Path) -> None:
    replica = make_site(site.engine, tmp_path)  # another process on the same database
    assert site.subscribe("x@y.gov.vn").status_code == 200
    assert replica.subscribe("X@y.gov.vn", frequency="weekly").status_code == 200
    # Confirmation and manage-link mails share one slot: the page answers the same, no mail.
    assert site.request_manage("x@y.gov.vn").status_code == 200
    assert replica.request_manage("x@y.gov.vn").status_code == 200
    assert len(site.mails("x@y.gov.vn")) == 1
    assert site.subscriber("x@y.gov.vn").frequency == "daily"  # the refused request changed nothing
    assert site.events("x@y.gov.vn") == ["subscribed", "confirmation_sent"]


def test_a_confirmation_the_outbox_cannot_send_yet_waits_for_it(lite: Site,
                                                                   tmp_path: Path) -> None:
    """Queued in the outbox: a mail that cannot go out now is retried, never lost."""
    (tmp_path / "mail").write_text("not a directory")  # the file transport cannot write
    assert lite.subscribe("x@y.gov.vn").status_code == 200
    assert lite.deliver().retried == 1
    assert lite.events("x@y.gov.vn") == ["subscribed", "confirmation_sent"]
    (tmp_path / "mail").unlink()
    from syndicator.delivery.send import deliver_due

    asyncio.run(deliver_due(lite.settings, lite.engine, asyncio.Event(), retry_now=True))
    [mail] = lite.mails("x@y.gov.vn")
    assert mail["Subject"].startswith("Xác nhận đăng ký")


def test_a_confirmation_that_finally_fails_frees_the_slot(sqlite_url: str,
                                                          tmp_path: Path) -> None:
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    site = make_site(engine, tmp_path, delivery={"max_attempts": 1})
    (tmp_path / "mail").write_text("not a directory")
    site.subscribe("x@y.gov.vn")
    assert site.deliver().failed == 1
    assert site.events("x@y.gov.vn") == ["subscribed", "confirmation_sent", "confirmation_failed"]
    (tmp_path / "mail").unlink()
    site.subscribe("x@y.gov.vn")  # at once: the failed mail did not count
    assert len(site.mails("x@y.gov.vn")) == 1


def test_per_client_rate_limit(sqlite_url: str, tmp_path: Path) -> None:
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    site = make_site(engine, tmp_path, subscriptions={"requests_per_client_per_hour": 3})
    codes = [site.subscribe(f"p{i}@x.gov.vn").status_code for i in range(3)]
    codes.append(site.request_manage("p0@x.gov.vn").status_code)
    assert codes == [200, 200, 200, 429]
    assert "Quá nhiều yêu cầu" in site.subscribe("p9@x.gov.vn").text
    assert site.subscriber("p9@x.gov.vn") is None


def test_allowed_domains(sqlite_url: str, tmp_path: Path) -> None:
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    site = make_site(engine, tmp_path, subscriptions={"allowed_domains": ["*.gov.vn"]})
    r = site.subscribe("someone@gmail.com")
    assert r.status_code == 400 and "*.gov.vn" in main_text(r.text)
    assert "địa chỉ thư công vụ" in r.text and 'aria-invalid="true"' in r.text
    assert site.subscriber("someone@gmail.com") is None and not site.mails()
    assert site.subscribe("vanthu@backan.gov.vn").status_code == 200
    assert site.subscribe("x@evil-gov.vn").status_code == 400


def test_csrf_tokens_bound_to_form_and_page(lite: Site) -> None:
    data = {"email": "c@x.gov.vn", "frequency": "daily", "text_size": "standard", "consent": "1"}
    assert lite.client.post("/subscribe", data=data).status_code == 400
    manage_token = form_token(lite.client.get("/manage").text)
    r = lite.client.post("/subscribe", data=data | {"form_token": manage_token})
    assert r.status_code == 400 and "Trang đã mở quá lâu" in r.text
    assert 'value="c@x.gov.vn"' in r.text  # what was typed is kept
    assert lite.subscriber("c@x.gov.vn") is None
    confirmed(lite, "a@x.gov.vn")
    confirmed(lite, "b@x.gov.vn")
    a_page, b_page = (lite.link(lite.mails(x)[-1], "unsubscribe") for x in ("a@x", "b@x"))
    b_token = form_token(lite.client.get(b_page).text)
    assert lite.client.post(a_page, data={"form_token": b_token}).status_code == 400
    assert lite.client.post(a_page).status_code == 400
    assert lite.subscriber("a@x.gov.vn").status == "active"


def _count(name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    from syndicator.telemetry import metrics

    return sum(s.value for f in text_string_to_metric_families(metrics.exposition().decode())
               for s in f.samples if s.name == name
               and all(s.labels.get(k) == v for k, v in labels.items()))


def test_honeypot(lite: Site) -> None:
    before = _count("syndicator_subscriber_page_refusals_total", reason="honeypot")
    r = lite.subscribe("bot@x.gov.vn", website="http://spam.example")
    assert r.status_code == 200 and "Xin kiểm tra hộp thư" in r.text
    assert lite.subscriber("bot@x.gov.vn") is None and not lite.mails()
    assert _count("syndicator_subscriber_page_refusals_total", reason="honeypot") == before + 1


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart", "untyped"])
def test_one_click_unsubscribe_without_cookies_or_form_token(site: Site, encoding: str) -> None:
    confirmed(site, "a@x.gov.vn")
    path = site.link(site.mails("a@x.gov.vn")[-1], "unsubscribe")
    site.client.cookies.clear()
    if encoding == "urlencoded":
        r = site.client.post(path, content=b"List-Unsubscribe=One-Click",
                             headers={"content-type": "application/x-www-form-urlencoded"})
    elif encoding == "multipart":
        r = site.client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    else:
        r = site.client.post(path, content=b"List-Unsubscribe=One-Click")
    assert r.status_code == 200 and "Đã hủy đăng ký" in r.text
    assert "set-cookie" not in r.headers
    assert site.subscriber("a@x.gov.vn").status == "unsubscribed"
    assert _count("syndicator_subscriber_page_actions_total", action="unsubscribed_one_click") >= 1


def test_manage_form_does_not_tell_whether_an_address_is_known(lite: Site) -> None:
    confirmed(lite, "known@x.gov.vn")
    lite.mailed_long_ago()  # the manage link mailed by confirmed() must not hold the next back
    known = lite.request_manage("known@x.gov.vn")
    unknown = lite.request_manage("unknown@x.gov.vn")
    assert known.status_code == unknown.status_code == 200
    assert main_text(known.text).replace("known@", "?@") == \
        main_text(unknown.text).replace("unknown@", "?@")
    assert [m["Subject"] for m in lite.mails("known@x.gov.vn")][-1].startswith("Đường dẫn quản lý")
    assert not lite.mails("unknown@x.gov.vn")
    assert lite.request_manage("not an address").status_code == 400


def test_preferences_pause_and_resubscribe_after_unsubscribing(lite: Site) -> None:
    confirmed(lite, "a@x.gov.vn")
    mail = lite.mails("a@x.gov.vn")[-1]
    prefs = lite.link(mail, "preferences")
    r = lite.post_page(prefs, action="save", name="Sở Tư pháp", frequency="immediate",
                       text_size="large", paused="1")
    assert r.status_code == 200 and "Đã lưu lựa chọn mới" in r.text
    row = lite.subscriber("a@x.gov.vn")
    assert (row.frequency, row.text_size, row.paused, row.name) == \
        ("immediate", "large", True, "Sở Tư pháp")
    assert "font-size: 24px" in lite.client.get(prefs).text  # shown large by default now
    assert "font-size: 18px" in lite.client.get(prefs + "?size=standard").text
    large_form = lite.client.get("/subscribe?size=large").text
    assert 'value="large" checked' in large_form and "font-size: 24px" in large_form
    lite.post_page(lite.link(mail, "unsubscribe"))
    assert lite.subscriber("a@x.gov.vn").status == "unsubscribed"
    page = lite.client.get(prefs)
    assert "đã hủy đăng ký" in page.text and "Đăng ký lại" in page.text
    lite.post_page(prefs, action="resubscribe")
    assert lite.subscriber("a@x.gov.vn").status == "active"
    assert lite.events("a@x.gov.vn")[-3:] == ["preferences_changed", "unsubscribed",
                                              "resubscribed"]


def test_a_stranger_cannot_change_an_active_subscription(lite: Site) -> None:
    confirmed(lite, "a@x.gov.vn", frequency="weekly")
    lite.mailed_long_ago()
    assert lite.subscribe("a@x.gov.vn", frequency="immediate").status_code == 200
    assert lite.subscriber("a@x.gov.vn").frequency == "weekly"
    assert lite.mails("a@x.gov.vn")[-1]["Subject"].startswith("Đường dẫn quản lý")


def test_form_errors_are_announced_and_kept(lite: Site) -> None:
    r = lite.subscribe("not-an-address", consent=None, name="Văn phòng <b>", size="large")
    assert r.status_code == 400 and "font-size: 24px" in r.text  # still the size chosen
    assert 'role="alert"' in r.text and 'href="#email"' in r.text and 'href="#consent"' in r.text
    assert "Văn phòng &lt;b&gt;" in r.text  # autoescaped
    assert lite.snapshot() == ([], 0)


def test_config_values_in_page_texts_are_escaped_and_consent_is_recorded_raw(
        sqlite_url: str, tmp_path: Path) -> None:
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    title = "Sở Nội vụ <i>tỉnh</i> & UBND"
    site = make_site(engine, tmp_path, site={"title": title},
                     subscriptions={"allowed_domains": ["<b>x</b>.gov.vn"]})
    page = site.client.get("/subscribe").text
    assert "<i>tỉnh</i>" not in page and "Sở Nội vụ &lt;i&gt;tỉnh&lt;/i&gt; &amp; UBND" in page
    refused = site.subscribe("someone@gmail.com").text
    assert "<b>x</b>" not in refused and "&lt;b&gt;x&lt;/b&gt;.gov.vn" in refused
    site = make_site(engine, tmp_path, site={"title": title})
    assert site.subscribe("vanthu@so.example").status_code == 200
    with engine.connect() as conn:
        details = [e.detail for e in conn.execute(sa.select(consent_events))]
    shown = [d["consent"]["text"] for d in details if "consent" in d]
    assert shown and all(text.startswith(f"Tôi đồng ý để {title} lưu") for text in shown)


def _cli(site: Site, tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: '{site.engine.url.render_as_string(False)}'}}\n"
                      "log: {format: console}\n")
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def _leave(site: Site, address: str, how: str) -> None:
    """The subscriber stops receiving: on the unsubscribe page, by an operator, or by bounces."""
    if how == "unsubscribe-page":
        site.mailed_long_ago()  # confirmation and manage-link mails share one slot an hour
        site.request_manage(address)
        assert site.post_page(site.link(site.mails(address)[-1], "unsubscribe")).status_code == 200
    elif how == "operator":
        from syndicator.subscribers import operator

        operator.remove(site.engine, address)
    else:
        with site.engine.begin() as conn:
            store.set_status(conn, site.subscriber(address).id, "bounced", event="bounced",
                             source="delivery", now=datetime.now(UTC))
    assert site.subscriber(address).status != "active"


@pytest.mark.parametrize("how", ["unsubscribe-page", "operator", "bounce"])
def test_an_old_confirmation_link_does_not_bring_back_who_left(lite: Site, how: str) -> None:
    assert lite.subscribe("a@x.gov.vn").status_code == 200
    confirm = lite.link(lite.mails("a@x.gov.vn")[-1], "confirm")
    shown = form_token(lite.client.get(confirm).text)  # the confirm form, as first shown
    assert lite.client.post(confirm, data={"form_token": shown}).status_code == 200
    assert "Đã xác nhận đăng ký" in lite.client.get(confirm).text  # confirming twice: harmless
    _leave(lite, "a@x.gov.vn", how)
    before = lite.snapshot()
    page = lite.client.get(confirm)
    assert page.status_code == 200 and "không còn nhận bản tin" in main_text(page.text)
    assert "Đã xác nhận đăng ký" not in page.text and "/preferences/" in page.text
    again = lite.client.post(confirm, data={"form_token": shown})  # the old form, sent again
    # Its token was spent by the first POST: refused, and the page says the link is closed.
    assert again.status_code == 400 and "không còn nhận bản tin" in main_text(again.text)
    assert lite.snapshot() == before


@pytest.mark.parametrize("status", ["pending", "unsubscribed", "bounced"])
def test_a_request_for_a_known_address_waits_for_its_confirmation(lite: Site,
                                                                   status: str) -> None:
    address = "a@x.gov.vn"
    lite.subscribe(address, name="Sở Tư pháp", frequency="weekly")
    first = lite.link(lite.mails(address)[-1], "confirm")
    if status != "pending":
        assert lite.post_page(first).status_code == 200
        _leave(lite, address, {"unsubscribed": "unsubscribe-page", "bounced": "bounce"}[status])
    lite.mailed_long_ago()
    before = lite.subscriber(address)
    assert lite.subscribe(address, name="Người lạ", frequency="immediate",
                          text_size="large").status_code == 200
    assert lite.subscriber(address) == before  # nothing applied before anyone confirms
    assert lite.events(address)[-2:] == ["subscribe_requested", "confirmation_sent"]
    second = lite.link(lite.mails(address)[-1], "confirm")
    page = main_text(lite.client.get(second).text)
    assert "Người lạ" in page and "Ngay khi có tin mới" in page and "Cỡ chữ lớn" in page
    if status == "pending":  # the first mail's link still asks for what was asked first
        assert "Sở Tư pháp" in main_text(lite.client.get(first).text)
    assert lite.subscriber(address) == before
    done = lite.post_page(second)
    assert done.status_code == 200 and "Đã xác nhận đăng ký" in done.text
    row = lite.subscriber(address)
    assert (row.status, row.name, row.frequency, row.text_size) == \
        ("active", "Người lạ", "immediate", "large")
    with lite.engine.connect() as conn:
        event = [e for e in store.history(conn, row.id) if e["event"] == "confirmed"][-1]
    assert event["detail"]["frequency"] == "immediate" and event["detail"]["consent"]["text"]


def test_operator_resets_every_link_of_a_subscriber(lite: Site, tmp_path: Path) -> None:
    confirmed(lite, "a@x.gov.vn")
    mail = lite.mails("a@x.gov.vn")[-1]
    old = [lite.link(mail, "preferences"), lite.link(mail, "unsubscribe")]
    result = _cli(lite, tmp_path, "subscribers", "reset-links", "A@x.gov.vn")
    assert result.exit_code == 0, result.output
    assert "a@x.gov.vn" in result.stdout
    for path in old:
        for r in (lite.client.get(path), lite.client.post(path, data={
                "List-Unsubscribe": "One-Click"})):
            assert r.status_code == 410 and "Đường dẫn không còn hiệu lực" in r.text
    assert lite.subscriber("a@x.gov.vn").status == "active"
    assert lite.events("a@x.gov.vn")[-1] == "links_reset"
    lite.mailed_long_ago()
    lite.request_manage("a@x.gov.vn")  # the way back: a fresh link by mail
    assert lite.client.get(lite.link(lite.mails("a@x.gov.vn")[-1], "unsubscribe")).status_code \
        == 200
    unknown = _cli(lite, tmp_path, "subscribers", "reset-links", "nobody@x.gov.vn")
    assert unknown.exit_code == 2 and "nobody@x.gov.vn" in unknown.output


def test_a_pending_address_confirms_on_its_preferences_page(lite: Site) -> None:
    lite.subscribe("p@x.gov.vn", frequency="weekly")
    lite.mailed_long_ago()
    lite.request_manage("p@x.gov.vn")
    prefs = lite.link(lite.mails("p@x.gov.vn")[-1], "preferences")
    page = main_text(lite.client.get(prefs).text)
    assert "đang chờ xác nhận" in page and "Hằng tuần" in page
    assert "Xác nhận đăng ký" in page and "Đăng ký lại" not in page
    done = lite.post_page(prefs, action="resubscribe")
    assert done.status_code == 200 and "Đã xác nhận đăng ký" in main_text(done.text)
    assert lite.subscriber("p@x.gov.vn").status == "active"
    assert lite.events("p@x.gov.vn")[-1] == "confirmed"


def _digest_to(site: Site, address: str) -> Any:
    """Deliver a daily digest of one bulletin through the real delivery service."""
    import asyncio

    from syndicator.delivery import send
    from syndicator.planning import due

    from .delivery_data import add_bulletin, set_watermark

    now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)  # subscribed before the period
    with site.engine.begin() as conn:
        conn.execute(subscribers.update().values(created_at=long_ago, confirmed_at=long_ago))
    add_bulletin(site.engine, datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    set_watermark(site.engine, now)
    due.run_digest(site.settings, site.engine, "daily", now)
    assert asyncio.run(send.deliver_due(site.settings, site.engine, asyncio.Event())).sent
    return next(m for m in site.mails(address) if m["Subject"].startswith("Bản tin"))


@pytest.mark.parametrize("size,other", [("standard", "large"), ("large", "standard")])
def test_the_digest_offers_the_other_text_size_preselected(lite: Site, size: str,
                                                           other: str) -> None:
    confirmed(lite, "a@x.gov.vn", text_size=size)
    html = _digest_to(lite, "a@x.gov.vn").get_body(("html",)).get_content()
    label = {"large": "Nhận thư cỡ chữ lớn", "standard": "Chuyển về thư cỡ chữ tiêu chuẩn"}[other]
    switch = re.search(r'<a href="([^"]+)"[^>]*>' + label, html)
    manage = re.search(r'<a href="([^"]+)"[^>]*>Thay đổi chuyên mục', html)
    assert switch and manage
    assert switch.group(1) == f"{manage.group(1)}?text_size={other}"
    before = lite.snapshot()
    switch_path, manage_path = (m.group(1).removeprefix("http://127.0.0.1:8080")
                                for m in (switch, manage))
    page = lite.client.get(switch_path)
    assert page.status_code == 200 and lite.snapshot() == before
    assert f'name="text_size" value="{other}" checked' in page.text
    assert f'name="text_size" value="{size}" checked' not in page.text
    assert "Lưu lựa chọn" in main_text(page.text)
    for plain in (manage_path, f"{manage_path}?text_size=huge"):
        assert f'name="text_size" value="{size}" checked' in lite.client.get(plain).text
    assert lite.snapshot() == before


def test_operator_verbs_on_an_unknown_address_are_one_line_exit_2(lite: Site,
                                                                  tmp_path: Path) -> None:
    for verb in ("consent", "reset-links", "remove"):
        result = _cli(lite, tmp_path, "subscribers", verb, "nobody@x.gov.vn")
        assert result.exit_code == 2, (verb, result.output)
        assert "no subscriber with address 'nobody@x.gov.vn'" in result.output


def test_page_changes_are_confirmed_by_a_short_notice(lite: Site) -> None:
    """Issue 17: the notices the docs promise are sent, through the outbox; never for a mail
    provider's one-click unsubscribe, nor for a save that changed nothing."""
    confirmed(lite, "note@x.gov.vn")
    mails = len(lite.mails("note@x.gov.vn"))
    preferences = lite.link(lite.mails("note@x.gov.vn")[-1], "preferences")
    page = lite.client.get(preferences)
    unchanged = {"form_token": form_token(page.text), "name": "", "frequency": "daily",
                 "text_size": "standard"}
    assert lite.client.post(preferences, data=unchanged).status_code == 200
    assert len(lite.mails("note@x.gov.vn")) == mails  # nothing changed: no notice
    changed = unchanged | {"frequency": "weekly",
                           "form_token": form_token(lite.client.get(preferences).text)}
    assert lite.client.post(preferences, data=changed).status_code == 200
    notice = lite.mails("note@x.gov.vn")[-1]
    assert len(lite.mails("note@x.gov.vn")) == mails + 1
    assert "đã được cập nhật" in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    unsubscribe = lite.link(notice, "unsubscribe")
    page = lite.client.get(unsubscribe)
    sent = lite.client.post(unsubscribe, data={"form_token": form_token(page.text)})
    assert sent.status_code == 200
    bye = lite.mails("note@x.gov.vn")[-1]
    assert len(lite.mails("note@x.gov.vn")) == mails + 2
    assert "đã được hủy đăng ký" in bye.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_one_click_unsubscribe_sends_nothing_back(lite: Site) -> None:
    confirmed(lite, "quiet@x.gov.vn")
    mails = len(lite.mails("quiet@x.gov.vn"))
    unsubscribe = lite.link(lite.mails("quiet@x.gov.vn")[-1], "unsubscribe")
    r = lite.client.post(unsubscribe, content=b"List-Unsubscribe=One-Click",
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and lite.subscriber("quiet@x.gov.vn").status == "unsubscribed"
    assert len(lite.mails("quiet@x.gov.vn")) == mails
