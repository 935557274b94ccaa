"""An operator's day in the console, in headless Chromium against the daemon (JavaScript off):
sign in, add an agency, import a CSV with errors, find "did agency X get bulletin Y", export the
proof, sign out. Every page is screenshotted and checked with axe-core (0 violations)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import REPO
from tests.e2e.daemon import Daemon, clean_env, cli, free_port
from tests.e2e.test_selfservice_browser import Visit
from tests.integration.smtp_server import FaultyHandler, SmtpServer
from tests.support.browser import chromium

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts" / "console"
OPERATOR = "vanthu@sonoivu.example"
PASSWORD = "Mật khẩu văn thư 2026"
AGENCY = "vanphong@ubnd-babe.example"  # a demo subscriber with `immediate` frequency
BULLETIN = "Triển khai các giải pháp nâng cao Chỉ số cải cách hành chính"


@pytest.fixture
def browser() -> Iterator[Any]:
    expect.set_options(timeout=60_000)  # a loaded CI machine
    with chromium() as b:
        yield b


def _start(tmp_path: Path, smtp_port: int) -> Daemon:
    port = free_port()
    env = clean_env(http__port=str(port), public_base_url=f"http://127.0.0.1:{port}",
                    mail__transport="smtp", smtp__host="127.0.0.1", smtp__port=str(smtp_port),
                    smtp__security="none", poll__interval_seconds="2")
    seeded = cli(tmp_path, env, "demo")
    assert seeded.returncode == 0, seeded.stderr
    made = subprocess.run([sys.executable, "-m", "syndicator", "admin", "add-user", OPERATOR,
                           "--role", "admin", "--password-stdin"], cwd=tmp_path, env=env,
                          input=PASSWORD + "\n", capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return Daemon(tmp_path, env, port).start()


def test_an_operator_signs_in_manages_agencies_finds_proof_and_signs_out(
        tmp_path: Path, browser: Any) -> None:
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        daemon = _start(tmp_path, server.port)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN",
                                      java_script_enabled=False, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(60_000)
        checker = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        visit = Visit(page, checker.new_page(), ARTIFACTS)
        try:
            daemon.wait_ready()
            daemon.wait_for("the demo's immediate digest", lambda: AGENCY in handler.by_rcpt())
            _operator_day(daemon, page, visit, tmp_path)
        finally:
            context.close()
            checker.close()
            code, _ = daemon.stop()
    assert code == 0
    assert visit.violations == {}, visit.violations


def _operator_day(daemon: Daemon, page: Any, visit: Visit, tmp_path: Path) -> None:
    page.goto(daemon.base + "/admin/")
    expect(page.get_by_role("heading", name="Đăng nhập trang quản trị")).to_be_visible()
    visit.check("login")
    page.get_by_label("Địa chỉ thư điện tử").fill(OPERATOR)
    page.get_by_label("Mật khẩu").fill("không phải mật khẩu")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_contain_text("không đúng")
    visit.check("login-failed")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Tổng quan", exact=True)).to_be_visible()
    expect(page.get_by_text("Thành công")).to_be_visible()  # the last poll
    visit.check("dashboard")

    _add_agency(page, visit)
    _import_csv(page, visit, tmp_path)
    _proof(page, visit, tmp_path)

    nav = page.get_by_role("navigation", name="Các trang quản trị")
    nav.get_by_role("link", name="Các đợt gửi").click()
    visit.check("runs")
    nav.get_by_role("link", name="Nhật ký thao tác").click()
    expect(page.get_by_role("cell", name="Xuất bằng chứng gửi").first).to_be_visible()
    visit.check("audit")
    nav.get_by_role("link", name="Tài khoản").click()
    visit.check("accounts")
    page.goto(daemon.base + "/admin/khong-co-trang-nay")
    visit.check("not-found")

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đã đăng xuất")).to_be_visible()
    visit.check("signed-out")
    page.goto(daemon.base + "/admin/agencies")
    expect(page.get_by_role("heading", name="Đăng nhập trang quản trị")).to_be_visible()


def _add_agency(page: Any, visit: Visit) -> None:
    page.get_by_role("navigation", name="Các trang quản trị").get_by_role(
        "link", name="Cơ quan nhận tin").click()
    visit.check("agencies")
    page.get_by_role("link", name="Thêm cơ quan").click()
    page.get_by_role("button", name="Thêm cơ quan").click()
    expect(page.get_by_role("alert")).to_be_visible()
    visit.check("agency-new-errors")
    page.get_by_label("Địa chỉ thư điện tử").fill("vanthu@ubnd-nari.example")
    page.get_by_label("Tên cơ quan, đơn vị (không bắt buộc)").fill("UBND huyện Na Rì")
    page.get_by_label("Hằng tuần (một bản tin mỗi tuần)").check()
    page.get_by_label("Cải cách hành chính").check()
    page.get_by_role("button", name="Thêm cơ quan").click()
    expect(page.get_by_text("Đã thêm cơ quan")).to_be_visible()
    expect(page.get_by_role("heading", name="UBND huyện Na Rì")).to_be_visible()
    visit.check("agency")
    page.get_by_role("link", name="Xem trước thư tiếp theo của cơ quan").click()
    visit.check("preview")


def _import_csv(page: Any, visit: Visit, tmp_path: Path) -> None:
    page.get_by_role("navigation", name="Các trang quản trị").get_by_role(
        "link", name="Cơ quan nhận tin").click()
    page.get_by_role("link", name="Nhập danh sách từ tệp CSV").click()
    visit.check("import")
    bad = tmp_path / "danh-sach.csv"
    bad.write_text("email,name,frequency,categories,text_size\n"
                   "vanphong@ubnd-nganson.example,UBND huyện Ngân Sơn,daily,,standard\n"
                   "khong-phai-dia-chi,UBND xã Sai,daily,,standard\n"
                   "noivu@pac-nam.example,Phòng Nội vụ Pác Nặm,hang-thang,,standard\n",
                   encoding="utf-8")
    page.get_by_label("Chọn tệp CSV").set_input_files(str(bad))
    page.get_by_role("button", name="Nhập danh sách").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Chưa nhập gì")
    expect(alert.get_by_role("row")).to_have_count(3)  # the header and lines 3 and 4
    expect(alert.get_by_role("cell", name="3", exact=True)).to_be_visible()
    expect(alert.get_by_role("cell", name="4", exact=True)).to_be_visible()
    visit.check("import-errors")
    good = tmp_path / "danh-sach-da-sua.csv"
    good.write_text("email,name,frequency\n"
                    "vanphong@ubnd-nganson.example,UBND huyện Ngân Sơn,daily\n"
                    "noivu@pac-nam.example,Phòng Nội vụ Pác Nặm,weekly\n", encoding="utf-8")
    page.get_by_label("Chọn tệp CSV").set_input_files(str(good))
    page.get_by_role("button", name="Nhập danh sách").click()
    expect(page.get_by_role("status")).to_contain_text("thêm 2 cơ quan")
    visit.check("import-done")


def _proof(page: Any, visit: Visit, tmp_path: Path) -> None:
    page.get_by_role("navigation", name="Các trang quản trị").get_by_role(
        "link", name="Bản tin").click()
    page.get_by_role("searchbox", name="Tiêu đề hoặc mã tin trên cổng").fill("PAR INDEX")
    page.get_by_role("button", name="Tìm").click()
    visit.check("bulletins")
    page.get_by_role("link", name=BULLETIN).click()
    page.get_by_label("Địa chỉ thư của cơ quan").fill(AGENCY)
    page.get_by_role("button", name="Tra cứu").click()
    answer = page.locator(".answer")
    expect(answer).to_contain_text("Đã gửi")
    expect(answer).to_contain_text("250")
    expect(answer).to_contain_text("Message-ID")
    visit.check("bulletin-answer")
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải bằng chứng gửi (CSV)").click()
    saved = tmp_path / "proof.csv"
    info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    mine = [r for r in rows if r["email"] == AGENCY]
    assert mine and mine[0]["status"] == "sent" and mine[0]["smtp_code"] == "250"
    assert mine[0]["message_id"] and mine[0]["sent_at"].endswith("+07:00")
    page.get_by_role("link", name="Bản in bằng chứng cho cơ quan này").click()
    expect(page.get_by_role("heading", name="Bằng chứng gửi bản tin qua thư điện tử"))\
        .to_be_visible()
    page.emulate_media(media="print")
    visit.check("proof-print")
    page.emulate_media(media="screen")
    page.go_back()
    page.get_by_role("link", name="Đợt 1", exact=False).first.click()
    visit.check("run")
