"""`syndicator preview` run as an operator runs it, from a directory of its own."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import REPO

TIMEOUT = 120


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syndicator", "--config",
                           str(REPO / "config.yaml"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("preview")
    for verb in ("demo", "poll"):
        done = run(cwd, verb)
        assert done.returncode == 0, done.stderr
    return cwd


def test_preview_html_to_stdout_falls_back_to_the_newest(workdir: Path) -> None:
    done = run(workdir, "preview", "--frequency", "weekly")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<!DOCTYPE html>") and 'lang="vi"' in done.stdout
    assert "no bulletins were first seen in the last weekly period" in done.stderr
    assert "Kính gửi: Văn phòng UBND tỉnh (thư xem trước)," in done.stdout


def test_preview_of_the_period_just_polled_writes_an_eml(workdir: Path) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    out = workdir / "daily-large.eml"
    done = run(workdir, "preview", "--frequency", "daily", "--large-text", "--now", tomorrow,
               "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "no bulletins were first seen" not in done.stderr
    msg = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["Subject"].startswith("Bản tin Sở Nội vụ tỉnh Bắc Kạn: ")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = msg.get_body(("html",))
    assert html is not None and "font-size: 24px" in html.get_content()


def test_preview_writes_html_file(workdir: Path) -> None:
    out = workdir / "p.html"
    done = run(workdir, "preview", "--frequency", "immediate", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("args", [("--frequency", "daily", "--out", "x.pdf"),
                                  ("--frequency", "daily", "--now", "yesterday"),
                                  ("--frequency", "hourly"),
                                  ("--frequency", "daily", "--out", "no/such/dir/x.html")])
def test_preview_usage_errors_exit_2(workdir: Path, args: tuple[str, ...]) -> None:
    done = run(workdir, "preview", *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
