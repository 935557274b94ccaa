"""A person's whole path through the subscriber pages in headless Chromium, against the daemon:
subscribe, the confirmation mail on a real SMTP server, confirm, large text, a large-text
digest, unsubscribe from its footer. Every page is screenshotted and checked with axe-core."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import REPO
from tests.e2e.daemon import Daemon, clean_env, cli, free_port
from tests.integration.smtp_server import FaultyHandler, SmtpServer
from tests.portal import Portal
from tests.support.browser import AXE, chromium

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts" / "selfservice"
ADDRESS = "vanthu@ubnd-nari.example"
TITLE = "Thông báo lịch tiếp công dân tháng 12 (kiểm thử trang đăng ký)"
LINK = r"http://127\.0\.0\.1:\d+/{kind}/[A-Za-z0-9_.\-]+"



@pytest.fixture
def browser() -> Iterator[Any]:
    expect.set_options(timeout=60_000)  # a loaded CI machine
    with chromium() as b:
        yield b


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpServer, FaultyHandler]]:
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        yield server, handler


class Visit:
    """Screenshots and axe-core checks of each page, numbered in the order a person sees them."""

    def __init__(self, page: Any, axe_page: Any, artifacts: Path = ARTIFACTS) -> None:
        self.page = page
        self.axe_page = axe_page  # JavaScript on: the person's page runs without it
        self.step = 0
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.artifacts = artifacts
        artifacts.mkdir(parents=True, exist_ok=True)

    def check(self, name: str) -> None:
        self.step += 1
        assert self.page.evaluate("document.documentElement.lang") == "vi"
        self.page.screenshot(path=str(self.artifacts / f"{self.step:02d}-{name}.png"),
                             full_page=True)
        self.axe_page.set_content(self.page.content())
        self.axe_page.add_script_tag(path=str(AXE))
        result = self.axe_page.evaluate("() => axe.run(document, {runOnly: {type: 'tag', values: "
                                    "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
                                    "'best-practice']}})")
        found = [{"id": v["id"], "help": v["help"], "nodes": [n["html"][:160]
                                                               for n in v["nodes"][:3]]}
                 for v in result["violations"]]
        if found:
            self.violations[name] = found


def _mails_to(handler: FaultyHandler, rcpt: str) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(r.data, policy=email.policy.default)
            for r in handler.by_rcpt().get(rcpt, [])]


def _body(msg: email.message.EmailMessage, kind: str) -> str:
    return msg.get_body((kind,)).get_content()  # type: ignore[union-attr]


def _link(text: str, kind: str) -> str:
    found = re.search(LINK.format(kind=kind), text)
    assert found, f"no /{kind}/ link in the mail"
    return found.group(0)


def _start(tmp_path: Path, smtp_port: int) -> Daemon:
    port = free_port()
    env = clean_env(http__port=str(port), public_base_url=f"http://127.0.0.1:{port}",
                    mail__transport="smtp", smtp__host="127.0.0.1", smtp__port=str(smtp_port),
                    smtp__security="none", poll__interval_seconds="2")
    seeded = cli(tmp_path, env, "demo")
    assert seeded.returncode == 0, seeded.stderr
    return Daemon(tmp_path, env, port).start()


def test_a_person_subscribes_confirms_reads_large_and_unsubscribes(
        tmp_path: Path, browser: Any, smtp: tuple[SmtpServer, FaultyHandler]) -> None:
    server, handler = smtp
    daemon = _start(tmp_path, server.port)
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="vi-VN",
                                  java_script_enabled=False)  # the pages need no JavaScript
    page = context.new_page()
    page.set_default_timeout(60_000)
    checker = browser.new_context(viewport={"width": 1000, "height": 900}, bypass_csp=True)
    visit = Visit(page, checker.new_page())
    try:
        daemon.wait_ready()
        page.goto(daemon.base + "/subscribe")
        visit.check("subscribe")
        page.get_by_role("button", name="Gửi đăng ký").click()
        expect(page.get_by_role("alert")).to_be_visible()
        visit.check("subscribe-errors")
        page.get_by_role("textbox", name="Địa chỉ thư điện tử").fill(ADDRESS)
        page.get_by_label("Tên cơ quan, đơn vị (không bắt buộc)").fill("UBND huyện Na Rì")
        page.get_by_label("Ngay khi có tin mới").check()
        page.get_by_role("checkbox", name="Tôi đồng ý", exact=False).check()
        page.get_by_role("button", name="Gửi đăng ký").click()
        expect(page.get_by_role("heading", name="Xin kiểm tra hộp thư")).to_be_visible()
        visit.check("check-mail")

        daemon.wait_for("the confirmation mail", lambda: bool(_mails_to(handler, ADDRESS)))
        [confirmation] = _mails_to(handler, ADDRESS)
        assert str(confirmation["Subject"]).startswith("Xác nhận đăng ký")
        confirm_url = _link(_body(confirmation, "plain"), "confirm")
        page.goto(confirm_url)
        visit.check("confirm")
        page.get_by_role("button", name="Xác nhận đăng ký").click()
        expect(page.get_by_role("heading", name="Đã xác nhận đăng ký")).to_be_visible()
        visit.check("confirmed")

        page.get_by_role("link", name="Thay đổi lựa chọn nhận tin").click()
        visit.check("preferences")
        page.get_by_role("navigation", name="Cỡ chữ của trang").get_by_role(
            "link", name="Lớn").click()
        expect(page.get_by_role("link", name="Lớn", exact=True)).to_have_attribute(
            "aria-current", "true")
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 24
        visit.check("preferences-large-page")
        page.get_by_label("Cỡ chữ lớn, dễ đọc hơn").check()
        page.get_by_role("button", name="Lưu lựa chọn").click()
        expect(page.get_by_text("Đã lưu lựa chọn mới")).to_be_visible()
        visit.check("preferences-saved")

        portal = Portal(f"sqlite:///{tmp_path / 'var' / 'portal.db'}")
        portal.insert(9101, title=TITLE, category="Cải cách hành chính",
                      published_at=datetime.now(UTC))
        portal.engine.dispose()
        daemon.wait_for("the large-text digest", lambda: any(
            TITLE in _body(m, "plain") for m in _mails_to(handler, ADDRESS)))
        digest = next(m for m in _mails_to(handler, ADDRESS) if TITLE in _body(m, "plain"))
        html = _body(digest, "html")
        assert re.search(r"font-size:\s*24px", html), "not the large-text variant"
        assert "List-Unsubscribe=One-Click" in str(digest["List-Unsubscribe-Post"])
        page.set_content(html)
        visit.check("digest-large")

        # As a person does: the footer link of the mail they are reading.
        page.get_by_role("link", name="Hủy đăng ký nhận bản tin", exact=True).click()
        expect(page).to_have_url(re.compile(r"/unsubscribe/[A-Za-z0-9_.\-]+$"))
        visit.check("unsubscribe")
        page.get_by_role("button", name="Hủy đăng ký").click()
        expect(page.get_by_role("heading", name="Đã hủy đăng ký")).to_be_visible()
        visit.check("unsubscribed")

        page.goto(daemon.base + "/unsubscribe/forged.token.value")
        visit.check("link-invalid")
        page.goto(daemon.base + "/manage?size=large")
        visit.check("manage-large")
        page.set_viewport_size({"width": 320, "height": 800})  # WCAG 1.4.10 reflow
        page.goto(daemon.base + "/subscribe?size=large")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        visit.check("subscribe-large-320")
    finally:
        context.close()
        checker.close()
        code, _ = daemon.stop()
    assert code == 0
    listed = cli(tmp_path, daemon.env, "subscribers", "consent", ADDRESS)
    assert listed.returncode == 0, listed.stderr
    assert '"status": "unsubscribed"' in listed.stdout
    assert visit.violations == {}, visit.violations
