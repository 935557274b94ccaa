"""The console's pages on real databases: the roster's filters and pages, adding and importing
agencies, re-sending a confirmation, "did agency X get bulletin Y", the proof as CSV, the
dashboard's poll summary, and the preview of an agency's next digest in both sizes."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicator.models.period import Period
from syndicator.planning.runs import create_run
from syndicator.state import outbox
from syndicator.state.schema import consent_events, deliveries, subscribers
from tests.integration.delivery_data import add_bulletin, add_subscriber
from tests.support.console import Console, make_console, settings

EDITOR = "bientap@sonoivu.example"
TZ = "Asia/Ho_Chi_Minh"
START = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 27/11 07:00 local is 00:00 UTC
END = START + timedelta(days=1)
SEEN = START + timedelta(hours=3)


@pytest.fixture
def console(state: sa.Engine, tmp_path: Path) -> Console:
    c = make_console(state, tmp_path, console={"page_size": 10})
    c.account(EDITOR, "editor")
    return c


def _emails(html: str) -> list[str]:
    return re.findall(r'class="mono">([^<]+@[^<]+)</a>', html)


def test_roster_filters_by_status_frequency_category_and_text(console: Console) -> None:
    e = console.engine
    add_subscriber(e, "moi-chuyen-muc@ubnd.example")  # no categories: receives every one
    add_subscriber(e, "cds@ubnd.example", categories=["Chuyển đổi số"])
    add_subscriber(e, "cchc@ubnd.example", categories=["Cải cách hành chính"])
    add_subscriber(e, "tuan@ubnd.example", frequency="weekly", categories=["Chuyển đổi số"])
    add_subscriber(e, "cho@ubnd.example", status="pending")
    client = console.sign_in(EDITOR)
    by = lambda **q: _emails(client.get("/admin/agencies", params=q).text)  # noqa: E731
    assert by(category="Chuyển đổi số") == ["cds@ubnd.example", "cho@ubnd.example",
                                            "moi-chuyen-muc@ubnd.example", "tuan@ubnd.example"]
    assert by(category="Chuyển đổi số", frequency="weekly") == ["tuan@ubnd.example"]
    assert by(status="pending") == ["cho@ubnd.example"]
    assert by(q="CCHC") == ["cchc@ubnd.example"]
    assert by(q="xã", status="active", frequency="daily", category="Cải cách hành chính") == [
        "cchc@ubnd.example", "moi-chuyen-muc@ubnd.example"]
    assert "Có 2 cơ quan phù hợp" in client.get("/admin/agencies", params={
        "category": "Cải cách hành chính", "status": "active"}).text


def test_roster_pages_by_key_both_ways(console: Console) -> None:
    for i in range(25):
        add_subscriber(console.engine, f"don-vi-{i:02d}@ubnd.example")
    client = console.sign_in(EDITOR)
    first = client.get("/admin/agencies").text
    assert _emails(first) == [f"don-vi-{i:02d}@ubnd.example" for i in range(10)]
    assert "Trang trước" not in first and "Có 25 cơ quan" in first
    nxt = re.search(r'href="(/admin/agencies\?[^"]*after=[^"]+)"', first).group(1)
    second = client.get(nxt.replace("&amp;", "&")).text
    assert _emails(second) == [f"don-vi-{i:02d}@ubnd.example" for i in range(10, 20)]
    third = client.get(re.search(r'href="(/admin/agencies\?[^"]*after=[^"]+)"', second)
                       .group(1).replace("&amp;", "&")).text
    assert _emails(third) == [f"don-vi-{i:02d}@ubnd.example" for i in range(20, 25)]
    assert "Trang sau" not in third
    back = re.search(r'href="(/admin/agencies\?[^"]*before=[^"]+)"', third).group(1)
    assert _emails(client.get(back.replace("&amp;", "&")).text) == _emails(second)


def test_add_an_agency_records_who_in_the_consent_history(console: Console) -> None:
    client = console.sign_in(EDITOR)
    csrf = console.csrf(client)
    form = {"csrf": csrf, "email": "VanThu@UBND-NaRi.example", "name": "UBND huyện Na Rì",
            "frequency": "weekly", "category": [], "text_size": "large"}
    r = client.post("/admin/agencies/new", data=form)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Đã thêm cơ quan" in page and "UBND huyện Na Rì" in page
    with console.engine.connect() as conn:
        sub = conn.execute(sa.select(subscribers)).one()
        event = conn.execute(sa.select(consent_events)).one()
    assert (sub.status, sub.frequency, sub.text_size, sub.consent_source) == (
        "active", "weekly", "large", "console")
    assert event.detail["operator"] == EDITOR and event.source == "console"
    again = client.post("/admin/agencies/new", data=form)
    assert again.status_code == 409 and "đã có trong danh sách" in again.text
    bad = client.post("/admin/agencies/new", data=form | {"email": "khong-phai-dia-chi"})
    assert bad.status_code == 400 and "Địa chỉ thư điện tử chưa đúng" in bad.text


def test_import_with_errors_imports_nothing_and_names_each_line(console: Console) -> None:
    add_subscriber(console.engine, "da-huy@ubnd.example", status="unsubscribed")
    client = console.sign_in(EDITOR)
    text = ("email,name,frequency,categories,text_size\n"
            "tot@ubnd.example,UBND xã Tốt,daily,,standard\n"
            "khong-hop-le,UBND xã Sai,daily,,standard\n"
            "tot@ubnd.example,Lặp lại,weekly,,standard\n"
            "tan-suat@ubnd.example,UBND xã B,monthly,,standard\n")
    r = client.post("/admin/agencies/import", data={"csrf": console.csrf(client)},
                    files={"file": ("danh-sach.csv", text.encode(), "text/csv")})
    assert r.status_code == 400
    lines = re.findall(r'<td class="num">(\d+)</td><td>([^<]+)</td>', r.text)
    assert lines == [("3", "Địa chỉ thư"), ("4", "Trùng địa chỉ"), ("5", "Tần suất")]
    assert "Chưa nhập gì" in r.text
    with console.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(subscribers)) == 1
    good = ("email,name,frequency\ntot@ubnd.example,UBND xã Tốt,daily\n"
            "da-huy@ubnd.example,Đã hủy,daily\n")
    r = client.post("/admin/agencies/import", data={"csrf": console.csrf(client), "text": good})
    assert r.status_code == 200 and "thêm 1 cơ quan" in r.text and "bỏ qua 1 dòng" in r.text
    latin1 = "email,name\nx@ubnd.example,Ủy ban\n".encode("utf-16")
    r = client.post("/admin/agencies/import", data={"csrf": console.csrf(client)},
                    files={"file": ("sai.csv", latin1, "text/csv")})
    assert r.status_code == 400 and "UTF-8" in r.text


def test_export_is_the_cli_export_for_excel(console: Console) -> None:
    add_subscriber(console.engine, "a@ubnd.example", categories=["Chuyển đổi số"])
    add_subscriber(console.engine, "b@ubnd.example", status="unsubscribed")
    client = console.sign_in(EDITOR)
    r = client.get("/admin/agencies/export.csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows == [["email", "name", "frequency", "categories", "text_size"],
                    ["a@ubnd.example", "Ủy ban nhân dân xã", "daily", "Chuyển đổi số",
                     "standard"]]
    everyone = client.get("/admin/agencies/export.csv?all=1").content.decode("utf-8-sig")
    assert "b@ubnd.example" in everyone and "unsubscribed" in everyone


def test_resend_confirmation_queues_a_page_mail_once_per_interval(console: Console) -> None:
    sid = add_subscriber(console.engine, "cho@ubnd.example", status="pending")
    with console.engine.begin() as conn:
        conn.execute(consent_events.insert().values(subscriber_id=sid, at=START, event="subscribed",
                                                    source="form", detail={}))
    client = console.sign_in(EDITOR)
    csrf = console.csrf(client)
    r = client.post(f"/admin/agencies/{sid}", data={"csrf": csrf, "action": "resend"})
    assert r.headers["location"].endswith("done=resent")
    again = client.post(f"/admin/agencies/{sid}", data={"csrf": csrf, "action": "resend"})
    assert again.headers["location"].endswith("done=not_resent")
    assert "Chưa gửi lại" in client.get(again.headers["location"]).text
    with console.engine.connect() as conn:
        queued = conn.execute(sa.select(deliveries)).all()
    assert [(d.kind, d.priority, d.status) for d in queued] == [("confirmation", 0, "pending")]
    assert queued[0].payload == {"request": 1}


def _sent_run(console: Console) -> tuple[int, dict[str, int]]:
    """A daily run of two bulletins to three agencies; two mails accepted, one failed."""
    e = console.engine
    news = add_bulletin(e, SEEN, category="Chuyển đổi số", slug="chuyen-doi-so",
                        title="Hội nghị chuyển đổi số")
    add_bulletin(e, SEEN, category="Thi đua", slug="thi-dua", title="Khen thưởng")
    subs = {"all": add_subscriber(e, "tatca@ubnd.example"),
            "other": add_subscriber(e, "thidua@ubnd.example", categories=["Thi đua"]),
            "weekly": add_subscriber(e, "tuan@ubnd.example", frequency="weekly"),
            "failed": add_subscriber(e, "hong@ubnd.example", categories=["Chuyển đổi số"])}
    create_run(e, Period("daily", START, END), console.settings.tz, END)
    with e.begin() as conn:
        ids = {r.subscriber_id: r.id for r in conn.execute(sa.select(deliveries))}
        outbox.set_message_ids(conn, {i: f"<d{i}.daily@bantin.example>" for i in ids.values()})
        outbox.mark_sent(conn, [(ids[subs["all"]], 250, "250 2.0.0 Ok: queued as 4Xb7"),
                                (ids[subs["other"]], 250, "250 2.0.0 Ok: queued as 9Qz1")],
                         END + timedelta(seconds=3))
        conn.execute(deliveries.update().where(deliveries.c.id == ids[subs["failed"]]).values(
            status="failed", attempts=1, last_code=550, last_reply="550 5.1.1 User unknown"))
    return news, subs


def test_did_agency_x_get_bulletin_y(console: Console) -> None:
    news, _ = _sent_run(console)
    client = console.sign_in(EDITOR)
    ask = lambda email: client.get(f"/admin/bulletins/{news}", params={"email": email}).text  # noqa: E731
    sent = ask("TatCa@ubnd.example")
    assert "Đã gửi" in sent and "26/11/2026 07:00:03" not in sent
    assert "27/11/2026 07:00:03" in sent  # END + 3 s, in Asia/Ho_Chi_Minh
    assert "250 2.0.0 Ok: queued as 4Xb7" in sent and "250 250" not in sent
    assert "&lt;d1.daily@bantin.example&gt;" in sent
    assert "Không có bản tin này trong thư gửi cơ quan" in ask("thidua@ubnd.example")
    assert "Không có thư nào của đợt này gửi cơ quan" in ask("tuan@ubnd.example")
    failed = ask("hong@ubnd.example")
    assert "Không gửi được" in failed and "550 5.1.1 User unknown" in failed
    assert "Không có cơ quan nào" in ask("ai-do@ubnd.example")
    later = add_bulletin(console.engine, END + timedelta(hours=1))
    assert "chưa được gửi trong đợt nào" in client.get(
        f"/admin/bulletins/{later}", params={"email": "tatca@ubnd.example"}).text


def test_proof_csv_of_a_run_and_of_a_bulletin(console: Console) -> None:
    news, _ = _sent_run(console)
    client = console.sign_in(EDITOR)
    run = list(csv.DictReader(io.StringIO(
        client.get("/admin/runs/1/proof.csv").content.decode("utf-8-sig"))))
    assert [r["email"] for r in run] == ["tatca@ubnd.example", "thidua@ubnd.example",
                                         "hong@ubnd.example"]
    first = run[0]
    assert (first["status"], first["smtp_code"], first["sent_at"], first["period_end"]) == (
        "sent", "250", "2026-11-27T07:00:03+07:00", "2026-11-27T07:00:00+07:00")
    assert first["message_id"].startswith("<d") and first["bounce"] == ""
    carried = list(csv.DictReader(io.StringIO(
        client.get(f"/admin/bulletins/{news}/proof.csv").content.decode("utf-8-sig"))))
    assert [r["email"] for r in carried] == ["tatca@ubnd.example", "hong@ubnd.example"]
    assert carried[0]["frequency"] == "daily"
    printed = client.get(f"/admin/bulletins/{news}/print?email=tatca@ubnd.example").text
    assert "Bằng chứng gửi bản tin" in printed and "hong@ubnd.example" not in printed
    exports = [e for e in console.actions() if e.action == "proof.exported"]
    assert [(e.target_kind, e.detail["format"]) for e in exports] == [
        ("run", "csv"), ("bulletin", "csv"), ("bulletin", "print")]


def test_run_page_counts_and_pages_its_deliveries(console: Console) -> None:
    _sent_run(console)
    client = console.sign_in(EDITOR)
    page = client.get("/admin/runs/1").text
    assert "đã gửi 2" in page and "không gửi được 1 (bị trả lại 1)" in page
    board = client.get("/admin/").text
    assert re.search(r"Đợt 1</a></td><td>[^<]+</td><td>Đang gửi</td>"
                     r'<td class="num">2</td><td class="num">0</td><td class="num">0</td>'
                     r'<td class="num">1</td><td class="num">1</td>', board)


def test_dashboard_shows_the_last_poll_and_the_rows_it_skipped(console: Console,
                                                               tmp_path: Path) -> None:
    from syndicator.runtime.poll import poll_once
    from tests.portal import Portal

    portal_url = f"sqlite:///{tmp_path / 'portal.db'}"
    portal = Portal(portal_url)
    portal.insert(1)
    portal.insert(2, title="   ")
    portal.insert(3, url="javascript:alert(1)")
    poll_once(settings(tmp_path, source={"url": portal_url}), console.engine)
    portal.engine.dispose()
    client = console.sign_in(EDITOR)
    board = client.get("/admin/").text
    assert "Thành công" in board
    assert re.search(r"<h3>Tin mới</h3><p class=\"big\">1</p>", board)
    assert re.search(r"<h3>Dòng bị bỏ qua</h3><p class=\"big\">2</p>", board)
    skipped = re.findall(r'<tr><td class="mono">(\d)</td><td class="mono">(\w+)</td>', board)
    assert skipped == [("2", "title"), ("3", "url")]
    assert "Bản tin hằng ngày" in board and "Quét cổng thông tin" in board


def test_preview_of_an_agencys_next_digest_in_both_sizes(console: Console) -> None:
    now = datetime.now(UTC)
    add_bulletin(console.engine, now - timedelta(minutes=5), category="Chuyển đổi số",
                 slug="chuyen-doi-so", title="Tin xem trước")
    add_bulletin(console.engine, now - timedelta(minutes=5), category="Thi đua", slug="thi-dua",
                 title="Tin của chuyên mục khác")
    sid = add_subscriber(console.engine, "xemtruoc@ubnd.example", categories=["Chuyển đổi số"],
                         text_size="large")
    nothing = add_subscriber(console.engine, "khong@ubnd.example", categories=["Nội vụ"])
    client = console.sign_in(EDITOR)
    page = client.get(f"/admin/agencies/{sid}/preview").text
    assert page.count("<iframe") == 2 and "gồm 1 tin" in page
    large = client.get(f"/admin/agencies/{sid}/preview/large")
    standard = client.get(f"/admin/agencies/{sid}/preview/standard")
    assert "frame-ancestors 'self'" in large.headers["content-security-policy"]
    for r in (large, standard):
        assert "Tin xem trước" in r.text and "Tin của chuyên mục khác" not in r.text
        assert "/unsubscribe/xem-truoc" in r.text  # no working personal link in a preview
    assert re.search(r"font-size:\s*24px", large.text)
    assert not re.search(r"body[^{]*\{[^}]*font-size:\s*24px", standard.text)
    assert "sẽ không có thư nào" in client.get(f"/admin/agencies/{nothing}/preview").text
    assert client.get(f"/admin/agencies/{nothing}/preview/large").status_code == 404


def test_roster_count_stops_at_its_cap(state: sa.Engine) -> None:
    from syndicator.state import roster

    for i in range(15):
        add_subscriber(state, f"dem-{i:02d}@ubnd.example")
    with state.connect() as conn:
        assert roster.count(conn, roster.Filters(), 10) == 11
        assert roster.count(conn, roster.Filters(), 100) == 15
        assert roster.count(conn, roster.Filters(status="pending"), 10) == 0
