"""Headless Chromium for the tests that look at pages and emails as a person would."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, REQUIRE

CHROMIUM = "/usr/bin/chromium"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return f"{CHROMIUM} is not installed"
    if not AXE.exists():
        return f"{AXE} is missing (run `npm install` at the repository root)"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser; a skip with the reason, or a failure where CI requires it."""
    reason = missing()
    if reason:
        if REQUIRE:
            pytest.fail(reason + "; SYNDICATOR_TEST_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS,
                                     timeout=120_000)
        yield browser
        browser.close()
