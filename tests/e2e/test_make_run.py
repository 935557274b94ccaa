"""The README's first command: `make run` serves the demo feed and mails the immediate
subscriber within 60 s, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import feedparser
import httpx
import pytest

from tests.conftest import REPO
from tests.e2e.daemon import clean_env, free_port

CONTRACT_SECONDS = 60
IMMEDIATE = "vanphong@ubnd-babe.example"


def _checkout(dest: Path) -> Path:
    """The tracked files, mtimes kept so make sees the shared venv as up to date."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def _feed_entries(url: str) -> int:
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return 0
    return len(feedparser.parse(response.content).entries) if response.status_code == 200 else 0


def _immediate_mail(outbox: Path) -> list[Path]:
    found = []
    for path in outbox.glob("*.eml") if outbox.is_dir() else []:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if IMMEDIATE in str(msg["To"]):
            found.append(path)
    return found


def test_make_run_meets_the_contract(tmp_path: Path) -> None:
    venv = REPO / ".venv"
    if not (venv / ".installed").exists() or shutil.which("make") is None:
        pytest.skip("needs make and the repository's .venv (made by `make test`)")
    repo = _checkout(tmp_path / "repo")
    port = free_port()  # the contract's 8080 may be taken on a shared machine
    log = (tmp_path / "make.log").open("wb")
    started = time.monotonic()
    # -o: never (re)install into the shared venv from the copy (`make test` keeps it current).
    make = subprocess.Popen(["make", "-o", f"{venv}/.installed", "run", f"VENV={venv}"],
                            cwd=repo, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env=clean_env(http__port=str(port)))
    try:
        deadline = started + CONTRACT_SECONDS
        feed_ok = mail_ok = False
        while time.monotonic() < deadline and not (feed_ok and mail_ok) and make.poll() is None:
            feed_ok = feed_ok or _feed_entries(f"http://127.0.0.1:{port}/feeds/all.atom") >= 11
            mail_ok = mail_ok or bool(_immediate_mail(repo / "var" / "mail"))
            time.sleep(0.5)
        took = time.monotonic() - started
        output = (tmp_path / "make.log").read_text(errors="replace")
        assert feed_ok and mail_ok, f"after {took:.0f} s: feed {feed_ok}, mail {mail_ok}\n{output}"

        stop = time.monotonic()
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        make.wait(timeout=15)
        assert time.monotonic() - stop < 10
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        log.close()
    output = (tmp_path / "make.log").read_text(errors="replace")
    assert '"event": "daemon.stopped"' in output and '"clean": true' in output
    assert "Traceback" not in output
