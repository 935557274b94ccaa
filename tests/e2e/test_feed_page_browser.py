"""A person opening a feed in Chromium sees the stylesheet's Vietnamese page, not raw XML."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.e2e.daemon import Daemon, clean_env, cli, free_port
from tests.support.browser import AXE, chromium

ARTIFACTS = REPO / "test-artifacts" / "feeds"
pytestmark = pytest.mark.browser


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    done = cli(tmp_path, clean_env(), "demo")
    assert done.returncode == 0, done.stderr
    port = free_port()
    d = Daemon(tmp_path, clean_env(http__port=str(port)), port).start()
    d.wait_ready()
    d.wait_for("all.rss", lambda: d.get("/feeds/all.rss").status_code == 200)
    yield d
    d.kill()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.mark.parametrize("name", ["all.atom", "all.rss"])
def test_a_feed_opened_in_a_browser_is_a_readable_vietnamese_page(
        daemon: Daemon, browser: Any, name: str) -> None:
    page = browser.new_page(viewport={"width": 900, "height": 900})
    response = page.goto(f"{daemon.base}/feeds/{name}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert page.locator("h1").inner_text() == "Sở Nội vụ tỉnh Bắc Kạn"
    main = page.locator("main").inner_text()
    assert "Nguồn tin là gì?" in main and "Cách theo dõi" in main
    assert f"http://127.0.0.1:8080/feeds/{name}" in main  # the address to copy
    entries = page.locator("ul.entries li")
    assert entries.count() == 11  # the demo's public bulletins
    assert entries.first.locator("a").get_attribute("href").startswith("https://")
    assert "Đăng ngày" in entries.first.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    shot = os.environ.get("SYNDICATOR_FEED_SCREENSHOT")  # docs/feeds.md's picture
    if shot and name == "all.atom":
        page.screenshot(path=shot, full_page=False)
    _no_axe_violations(browser, page.content())


def _no_axe_violations(browser: Any, html: str) -> None:
    checker = browser.new_page()
    checker.set_content(html)
    checker.add_script_tag(path=str(AXE))
    result = checker.evaluate("() => axe.run(document, {runOnly: {type: 'tag', values: "
                              "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    assert [v["id"] for v in result["violations"]] == []
