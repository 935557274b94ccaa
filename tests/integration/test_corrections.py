"""Corrections and withdrawals reach exactly those who received the bulletin, once per
version: a real portal database, real polls, a real SMTP server (issue 15 item 5)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from syndicator.config.databases import create_engine
from syndicator.config.settings import Settings
from syndicator.delivery import send
from syndicator.feeds.directory import build_all
from syndicator.ingest.poll import Poller
from syndicator.planning import corrections as planning
from syndicator.runtime.poll import poll_once
from syndicator.source.portal import PortalSource
from syndicator.state import versions
from syndicator.state.db import upgrade
from syndicator.state.schema import bulletin_versions, correction_notices, deliveries
from syndicator.telemetry.metrics import REGISTRY
from tests.feeds_support import assert_valid
from tests.portal import Portal

from .delivery_data import add_subscriber
from .smtp_server import Received, SmtpServer

REPO = Path(__file__).resolve().parents[2]
TITLE_1 = "Hướng dẫn thi đua năm 2026"
LEAD_1 = "Sở Nội vụ hướng dẫn thi đua. Hồ sơ nộp trước ngày 20/11/2026. Liên hệ phòng Thi đua."
BODY_1 = "<p>Các cơ quan, đơn vị thực hiện theo hướng dẫn.</p>"
ALL = "all@example.gov.vn"  # immediate, every category: gets bulletins 1 and 2
LARGE = "large@example.gov.vn"  # immediate, Thi đua only, large text: gets bulletin 1
OTHER = "other@example.gov.vn"  # immediate, Tin tức only: gets bulletin 2
DAILY = "daily@example.gov.vn"  # daily: no digest ran, received nothing


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    from tests.conftest import _scratch_database

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}", f"sqlite:///{tmp_path / 'portal.db'}"
        return
    state_gen, portal_gen = _scratch_database(request.param), _scratch_database(request.param)
    try:
        yield next(state_gen), next(portal_gen)
    finally:
        state_gen.close()
        portal_gen.close()


class World:
    """A portal with two mailed bulletins, four subscribers and a real SMTP server."""

    def __init__(self, state_url: str, portal_url: str, tmp: Path, port: int,
                 **corrections: Any) -> None:
        self.settings = Settings(
            source={"url": portal_url}, database={"url": state_url},
            mail={"transport": "smtp", "outbox_dir": str(tmp / "mail")},
            smtp={"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5},
            delivery={"retry_delays": [0], "max_attempts": 3, "lease_seconds": 30},
            security={"secret_key": "corrections-test-secret-0123456789abcdef"},
            corrections={"notify": "immediate"} | corrections)
        self.portal = Portal(portal_url)
        self.state = create_engine(state_url, "database.url")
        upgrade(self.state)
        self.source = PortalSource(self.settings.source, self.settings.tz)
        self.published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        add_subscriber(self.state, ALL, frequency="immediate")
        add_subscriber(self.state, LARGE, frequency="immediate", categories=["Thi đua"],
                       text_size="large")
        add_subscriber(self.state, OTHER, frequency="immediate", categories=["Tin tức"])
        add_subscriber(self.state, DAILY, frequency="daily")
        self.portal.insert(1, title=TITLE_1, summary=f"<p>{LEAD_1}</p>", body_html=BODY_1,
                           category="Thi đua", published_at=self.published)
        self.portal.insert(2, title="Lịch tiếp công dân tháng 12", category="Tin tức",
                           published_at=self.published)
        self.edits = 0

    def poll(self) -> None:
        poll_once(self.settings, self.state, self.source)

    def deliver(self) -> None:
        asyncio.run(send.deliver_due(self.settings, self.state, asyncio.Event(),
                                     retry_now=True))

    def edit(self, id: int, **fields: Any) -> None:
        self.edits += 1  # the portal moves updated_at on every save
        self.portal.update(id, updated_at=self.published + timedelta(minutes=self.edits),
                           **fields)

    def close(self) -> None:
        self.state.dispose()
        self.source.engine.dispose()
        self.portal.engine.dispose()


@pytest.fixture
def world(pair: tuple[str, str], tmp_path: Path) -> Iterator[tuple[World, SmtpServer]]:
    with SmtpServer() as server:
        w = World(*pair, tmp_path, server.port)
        w.poll()
        w.deliver()  # the immediate notices of both bulletins
        yield w, server
        w.close()


def planned_metric(what: str) -> float:
    return REGISTRY.get_sample_value("syndicator_corrections_planned_total",
                                     {"how": "immediate", "what": what}) or 0.0


def parse(r: Received) -> EmailMessage:
    msg = email.message_from_bytes(r.data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def subjects(server: SmtpServer, since: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in server.handler.received[since:]:
        out.setdefault(r.rcpt, []).append(str(parse(r)["Subject"]))
    return {k: sorted(v) for k, v in out.items()}


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_only_recipients_are_told_once_per_version(world: tuple[World, SmtpServer]) -> None:
    w, server = world
    assert sorted(subjects(server, 0)) == [ALL, LARGE, OTHER]  # DAILY got nothing yet
    seen = len(server.handler.received)

    # Cosmetic: markup and white space only. Stored (the feeds show the new markup), no mail.
    w.edit(1, summary=f"<div><p><b>{LEAD_1.replace(' ', '  ')}</b></p></div>",
           body_html=BODY_1.replace("<p>", "<p class='x'>\n"))
    w.poll()
    w.deliver()
    assert subjects(server, seen) == {}
    with w.state.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(bulletin_versions)) == 0

    # In substance: the title and one sentence of the lead.
    told_before = planned_metric("corrected")
    new_title = "Hướng dẫn thi đua, khen thưởng năm 2026"
    new_lead = LEAD_1.replace("20/11/2026", "30/11/2026")
    w.edit(1, title=new_title, summary=f"<p>{new_lead}</p>")
    w.poll()
    w.deliver()
    got = subjects(server, seen)
    assert got == {ALL: [f"Đính chính: {new_title}"], LARGE: [f"Đính chính: {new_title}"]}
    assert planned_metric("corrected") == told_before + 2
    mails = {r.rcpt: parse(r) for r in server.handler.received[seen:]}
    html = html_of(mails[ALL])
    assert TITLE_1 in html and new_title in html
    assert "Hồ sơ nộp trước ngày 20/11/2026." in html  # the sentence as it was
    assert "Hồ sơ nộp trước ngày 30/11/2026." in html  # and as it is now
    assert "Liên hệ phòng Thi đua" not in html  # an unchanged sentence is not repeated
    text = mails[ALL].get_body(("plain",))
    assert text is not None and "Tiêu đề cũ: " + TITLE_1 in str(text.get_content())
    for msg in mails.values():  # the project's headers and budget
        assert str(msg["List-Unsubscribe"]).startswith("<http://127.0.0.1:8080/unsubscribe/")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["List-Id"] is not None and msg["Message-ID"]
        raw_html = next(p for p in msg.walk() if p.get_content_type() == "text/html")
        assert len(raw_html.get_payload().encode()) <= 100_000  # type: ignore[union-attr]
    assert "font-size:24px" in html_of(mails[LARGE]).replace(" ", "")  # its variant
    assert "font-size:24px" not in html.replace(" ", "")
    seen = len(server.handler.received)

    # Polling again (nothing changed) and the recovery tick's planning send nothing more.
    w.poll()
    w.poll()
    w.deliver()
    assert subjects(server, seen) == {}

    # Withdrawn (unpublished) and deleted: "Thu hồi:" to the same people, once.
    w.edit(1, status="draft")
    w.portal.delete(2)
    w.poll()
    w.deliver()
    w.poll()
    w.deliver()
    assert subjects(server, seen) == {ALL: sorted([f"Thu hồi: {new_title}",
                                                   "Thu hồi: Lịch tiếp công dân tháng 12"]),
                                      LARGE: [f"Thu hồi: {new_title}"],
                                      OTHER: ["Thu hồi: Lịch tiếp công dân tháng 12"]}
    with w.state.connect() as conn:
        told = conn.execute(sa.select(correction_notices.c.subscriber_id,
                                      correction_notices.c.bulletin_id,
                                      correction_notices.c.version)).all()
    assert len(told) == len(set(told)) == 6  # 2 corrections, 4 withdrawals


def test_threshold_in_characters(pair: tuple[str, str], tmp_path: Path) -> None:
    """min_changed_chars: 5 lets a two-letter typo fix pass and tells of a reworded sentence."""
    with SmtpServer() as server:
        w = World(*pair, tmp_path, server.port, min_changed_chars=5)
        try:
            w.poll()
            w.deliver()
            seen = len(server.handler.received)
            w.edit(1, body_html=BODY_1.replace("thực hiện", "thực hện"))  # 1 character
            w.poll()
            w.edit(1, body_html=BODY_1.replace("thực hiện", "thục hệm"))  # 3 from the first
            w.poll()
            w.deliver()
            assert subjects(server, seen) == {}
            w.edit(1, body_html=BODY_1.replace("theo hướng dẫn", "trước ngày 01/12/2026"))
            w.poll()
            w.deliver()
            assert subjects(server, seen) == {ALL: [f"Đính chính: {TITLE_1}"],
                                              LARGE: [f"Đính chính: {TITLE_1}"]}
        finally:
            w.close()


@pytest.mark.parametrize("mode", ["off", "next_digest"])
def test_no_immediate_mail_unless_immediate(pair: tuple[str, str], tmp_path: Path,
                                            mode: str) -> None:
    with SmtpServer() as server:
        w = World(*pair, tmp_path, server.port, notify=mode)
        try:
            w.poll()
            w.deliver()
            seen = len(server.handler.received)
            w.edit(1, title="Tiêu đề đã sửa")
            w.poll()
            w.deliver()
            assert subjects(server, seen) == {}
            with w.state.connect() as conn:
                held = conn.scalar(sa.select(sa.func.count()).select_from(correction_notices))
                kinds = set(conn.scalars(sa.select(deliveries.c.kind)))
            assert held == (2 if mode == "next_digest" else 0)
            assert kinds == {"digest"}
        finally:
            w.close()


@pytest.mark.parametrize("stop_after", ["ingest", "plan"])
def test_a_crash_between_poll_and_send_loses_no_notice(pair: tuple[str, str], tmp_path: Path,
                                                       stop_after: str) -> None:
    """A poll process killed (-9) right after ingest committed the correction, or right after
    it queued the notices: the next poll (another process) and one sending round deliver each
    notice once."""
    with SmtpServer() as server:
        w = World(*pair, tmp_path, server.port)
        try:
            w.poll()
            w.deliver()
            seen = len(server.handler.received)
            w.edit(1, title="Hướng dẫn đã đính chính")
            config = tmp_path / "poll.yaml"
            config.write_text(yaml.safe_dump({
                "source": {"url": pair[1]},
                "database": {"url": pair[0]},
                "log": {"level": "warning"}}), encoding="utf-8")
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.poll_main", str(config), stop_after],
                cwd=REPO, stdout=subprocess.PIPE)
            try:
                assert proc.stdout is not None
                lines = iter(proc.stdout.readline, b"")  # log lines, then READY
                assert any(line == b"READY\n" for line in lines)
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
            with w.state.connect() as conn:
                assert conn.scalar(sa.select(sa.func.count()).select_from(
                    bulletin_versions)) == 2  # the correction was committed before the kill
            w.poll()  # the next poll: nothing new to ingest, the notices planned once
            w.deliver()
            w.poll()
            w.deliver()
            assert subjects(server, seen) == {ALL: ["Đính chính: Hướng dẫn đã đính chính"],
                                              LARGE: ["Đính chính: Hướng dẫn đã đính chính"]}
        finally:
            w.close()


def test_an_aborted_planning_transaction_is_planned_again(pair: tuple[str, str],
                                                          tmp_path: Path) -> None:
    """Planning that fails after queuing some mail rolls back as a whole (no half-told
    audience); the next poll plans the version again."""
    with SmtpServer() as server:
        w = World(*pair, tmp_path, server.port)
        try:
            w.poll()
            w.deliver()
            seen = len(server.handler.received)
            w.edit(1, title="Tiêu đề mới")
            Poller(w.settings, w.source, w.state).poll()  # ingest only
            with pytest.raises(RuntimeError), w.state.begin() as conn:
                version = versions.unplanned(conn)[0]
                assert versions.mark_planned(conn, version, datetime.now(UTC))
                assert planning._plan(conn, version, "immediate", datetime.now(UTC)) == 2
                raise RuntimeError("the process dies before its commit")
            w.poll()
            w.deliver()
            assert subjects(server, seen) == {ALL: ["Đính chính: Tiêu đề mới"],
                                              LARGE: ["Đính chính: Tiêu đề mới"]}
        finally:
            w.close()


def test_feeds_show_the_correction(world: tuple[World, SmtpServer], tmp_path: Path) -> None:
    """`updated` moves to the correction and its text begins with a visible note; a cosmetic
    edit adds no note. Still valid (RFC 4287 schema, feedparser, JSON Feed schema)."""
    w, _ = world
    settings = w.settings.model_copy(update={"feeds": w.settings.feeds.model_copy(
        update={"output_dir": tmp_path / "feeds"})})
    w.edit(1, body_html=BODY_1.replace("<p>", "<p>\n  "))  # cosmetic
    w.poll()
    build_all(settings, w.state)
    atom = assert_valid("all.atom", (tmp_path / "feeds" / "all.atom").read_bytes())
    assert len(atom.entries) == 2
    assert not any("Đính chính" in e.content[0].value for e in atom.entries)
    w.edit(1, title="Hướng dẫn thi đua (sửa)")
    w.poll()
    build_all(settings, w.state)
    with w.state.connect() as conn:
        corrected_at = conn.scalar(sa.select(bulletin_versions.c.created_at)
                                   .where(bulletin_versions.c.version == 2))
    note = f"Đính chính ngày {corrected_at.astimezone(w.settings.tz):%d/%m/%Y}"
    for name in ("all.atom", "all.rss"):
        parsed = assert_valid(name, (tmp_path / "feeds" / name).read_bytes())
        entry = next(e for e in parsed.entries if "(sửa)" in e.title)
        other = next(e for e in parsed.entries if "(sửa)" not in e.title)
        assert note in entry.content[0].value, name
        assert "Đính chính" not in other.content[0].value, name
        if name == "all.atom":  # RSS items have no updated date
            assert entry.updated_parsed[:6] == corrected_at.astimezone(UTC).timetuple()[:6]
    doc = assert_valid("all.json", (tmp_path / "feeds" / "all.json").read_bytes())
    item = next(i for i in doc["items"] if "(sửa)" in i["title"])
    assert note in item["content_html"]
    assert datetime.fromisoformat(item["date_modified"]) == corrected_at.replace(microsecond=0)


def test_next_digest_carries_the_correction_once(pair: tuple[str, str], tmp_path: Path) -> None:
    """corrections.notify: next_digest: no mail of its own; the next digest of each recipient
    opens with it, under the same words; the one after that does not repeat it."""
    with SmtpServer() as server:
        w = World(*pair, tmp_path, server.port, notify="next_digest")
        try:
            w.poll()
            w.deliver()
            w.edit(1, title="Hướng dẫn thi đua (đã sửa)")
            w.poll()
            seen = len(server.handler.received)
            for i in (3, 4):  # two later bulletins, in two polls: two immediate digests
                w.portal.insert(i, title=f"Thông báo mới {i}", category="Thi đua",
                                published_at=w.published)
                w.poll()
                w.deliver()
            mails: dict[str, list[str]] = {}
            for r in server.handler.received[seen:]:
                mails.setdefault(r.rcpt, []).append(html_of(parse(r)))
            assert sorted(mails) == [ALL, LARGE]
            for html in (*mails[ALL], *mails[LARGE]):
                assert "Thông báo mới" in html
            for rcpt in (ALL, LARGE):
                first, second = (h[h.index("<main"):] for h in mails[rcpt])
                assert "Đính chính và thu hồi" in first and "(đã sửa)" in first
                assert first.index("Đính chính và thu hồi") < first.index("Thông báo mới")
                assert TITLE_1 in first  # the old title, struck through
                assert "Đính chính" not in second
        finally:
            w.close()


def test_web_copy_of_an_old_digest_links_to_the_current_version(
        world: tuple[World, SmtpServer]) -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from syndicator.state.schema import digest_contents
    from syndicator.web import digests

    w, _ = world
    w.edit(1, title="Hướng dẫn thi đua (sửa lần 1)")
    w.poll()
    with w.state.connect() as conn:
        ids = list(conn.scalars(sa.select(digest_contents.c.digest_id)))
    client = TestClient(Starlette(routes=digests.routes(w.settings, w.state)))
    pages = {i: client.get(f"/digests/{i}").text for i in ids}
    with_1 = [p for p in pages.values() if "(sửa lần 1)" in p]
    assert with_1 and all("Lưu ý: có bản tin đã được đính chính" in p for p in with_1)
    assert all('href="https://portal.example/tin/1"' in p for p in with_1)
    without = [p for p in pages.values() if "(sửa lần 1)" not in p]
    assert without and not any("Lưu ý" in p for p in without)  # OTHER's: bulletin 2 only


def test_console_shows_each_version_and_who_was_told(world: tuple[World, SmtpServer],
                                                     tmp_path: Path) -> None:
    from syndicator.state.schema import bulletins
    from tests.support.console import make_console

    w, _ = world
    console = make_console(w.state, tmp_path / "console")
    console.account("vanthu@sonoivu.example", "viewer")
    client = console.sign_in("vanthu@sonoivu.example")
    with w.state.connect() as conn:
        ids = dict(conn.execute(sa.select(bulletins.c.source_id, bulletins.c.id)).all())
    page = lambda source_id: client.get(f"/admin/bulletins/{ids[source_id]}").text  # noqa: E731
    assert "Đính chính và thu hồi" not in page("1")  # nothing changed yet

    w.edit(1, title="Hướng dẫn thi đua (đã sửa)")
    w.poll()
    w.deliver()
    w.edit(1, status="draft")
    w.poll()  # the withdrawal is planned, its mails not yet sent
    html = page("1")
    section = html[html.index("Đính chính và thu hồi"):html.index("Cơ quan đã nhận tin này")]
    rows = re.findall(r"<tr>\s*<td class=\"num\">(\d)</td>\s*<td>(\w[^<]*)</td>\s*<td>([^<]*)</td>"
                      r".*?<td>(.*?)</td>\s*</tr>", section, re.S)
    assert [(n, what, title) for n, what, title, _ in rows] == [
        ("2", "Đính chính", "Hướng dẫn thi đua (đã sửa)"),
        ("3", "Thu hồi", "Hướng dẫn thi đua (đã sửa)")]
    assert "2 thư báo riêng, máy chủ nhận đã chấp nhận 2" in rows[0][3]
    assert "2 thư báo riêng, máy chủ nhận đã chấp nhận 0" in rows[1][3]
    assert "Đính chính và thu hồi" not in page("2")
    w.deliver()
    assert "2 thư báo riêng, máy chủ nhận đã chấp nhận 2" in page("1").split("Thu hồi</td>")[1]


def test_web_copy_of_a_digest_whose_bulletins_were_all_withdrawn_says_so(
        world: tuple[World, SmtpServer]) -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from syndicator.state.schema import digest_contents
    from syndicator.web import digests

    w, _ = world
    w.edit(2, status="draft")  # OTHER's only bulletin; ALL's digest still holds bulletin 1
    w.poll()
    with w.state.connect() as conn:
        ids = list(conn.scalars(sa.select(digest_contents.c.digest_id)))
    client = TestClient(Starlette(routes=digests.routes(w.settings, w.state)))
    pages = [client.get(f"/digests/{i}") for i in ids]
    gone = [p for p in pages if p.status_code == 410]
    for page in gone:
        assert "Các tin trong bản tin tổng hợp này đã được thu hồi" in page.text
        assert "Lịch tiếp công dân tháng 12 (thu hồi ngày " in page.text
        assert page.headers["Cache-Control"] == "no-store"
    # OTHER's (bulletin 2 only) is gone; ALL's (1 and 2) shows 1 and names 2 as withdrawn;
    # LARGE's (1 only) is as it was.
    seen = sorted((p.status_code, "Lưu ý" in p.text, "Lịch tiếp" in p.text, TITLE_1 in p.text)
                  for p in pages)
    assert seen == [(200, False, False, True), (200, True, True, True), (410, False, True, False)]
    missing = client.get("/digests/khong-co-ban-tin-nay")
    assert missing.status_code == 404 and "Không tìm thấy bản tin tổng hợp" in missing.text


def test_a_digest_that_finally_fails_hands_its_correction_to_the_next(
        pair: tuple[str, str], tmp_path: Path) -> None:
    """next_digest: the digest that was to carry the correction fails for good (the server
    refused it on every attempt); the subscriber's next digest carries it instead."""
    from tests.integration.smtp_server import FaultyHandler

    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        w = World(*pair, tmp_path, server.port, notify="next_digest")
        try:
            w.poll()
            w.deliver()
            w.edit(1, title="Hướng dẫn thi đua (đã sửa)")
            w.poll()
            handler.plan[ALL] = ["451"] * 3  # delivery.max_attempts
            seen = len(server.handler.received)
            w.portal.insert(3, title="Thông báo mới 3", category="Thi đua",
                            published_at=w.published)
            w.poll()
            for _ in range(3):
                w.deliver()
            with w.state.connect() as conn:
                statuses = sorted(conn.scalars(sa.select(deliveries.c.status).where(
                    deliveries.c.kind == "digest", deliveries.c.status != "sent")))
            assert statuses == ["failed"]
            got = {r.rcpt: html_of(parse(r)) for r in server.handler.received[seen:]}
            assert sorted(got) == [LARGE] and "(đã sửa)" in got[LARGE]
            seen = len(server.handler.received)
            w.portal.insert(4, title="Thông báo mới 4", category="Thi đua",
                            published_at=w.published)
            w.poll()
            w.deliver()
            got = {r.rcpt: html_of(parse(r)) for r in server.handler.received[seen:]}
            assert sorted(got) == [ALL, LARGE]
            assert "Đính chính và thu hồi" in got[ALL] and "(đã sửa)" in got[ALL]
            assert "Đính chính và thu hồi" not in got[LARGE]  # told once, in its last digest
        finally:
            w.close()
