"""The delivery verbs as an operator runs them: demo, poll, deliver, digest run, deliveries,
check."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC
from email import message_from_bytes
from pathlib import Path

import yaml

from tests.integration.smtp_server import SmtpServer

REPO = Path(__file__).resolve().parents[2]


def cli(cwd: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    cfg = ["--config", str(config or REPO / "config.yaml")]
    return subprocess.run([sys.executable, "-m", "syndicator", *cfg, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_demo_poll_deliver_and_digest_run(tmp_path: Path) -> None:
    assert cli(tmp_path, "demo").returncode == 0
    poll = cli(tmp_path, "poll")
    assert poll.returncode == 0, poll.stderr
    sent = cli(tmp_path, "deliver")
    assert sent.returncode == 0 and "deliver: 1 sent" in sent.stdout, sent.stderr
    immediate = list((tmp_path / "var/mail").glob("*.eml"))
    assert len(immediate) == 1
    msg = message_from_bytes(immediate[0].read_bytes())
    assert msg["To"].endswith("<vanphong@ubnd-babe.example>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    daily = cli(tmp_path, "digest", "run", "--frequency", "daily", "--now", "2099-01-01T08:00")
    assert daily.returncode == 0 and "created" in daily.stdout, daily.stderr
    # The demo bulletins were first seen today, not in the period before 2099-01-01.
    assert "0 deliveries" in daily.stdout
    again = cli(tmp_path, "digest", "run", "--frequency", "daily", "--now", "2099-01-01T09:00")
    assert "already existed" in again.stdout

    listing = cli(tmp_path, "deliveries", "--json")
    rows = json.loads(listing.stdout)
    assert [(r["email"], r["status"], r["attempts"]) for r in rows] == [
        ("vanphong@ubnd-babe.example", "sent", 1)]
    assert rows[0]["message_id"] == msg["Message-ID"]
    assert cli(tmp_path, "deliver").stdout.startswith("deliver: 0 sent")


def test_check_probes_the_smtp_server_and_fails_closed_without_starttls(tmp_path: Path) -> None:
    cli(tmp_path, "db", "upgrade")
    with SmtpServer() as server:
        for security, ok in (("none", True), ("starttls", False)):
            cfg = {"mail": {"transport": "smtp"},
                   "smtp": {"host": "127.0.0.1", "port": server.port, "security": security,
                            "timeout": 5}}
            path = tmp_path / f"{security}.yaml"
            path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
            done = cli(tmp_path, "check", config=path)
            line = next(x for x in done.stdout.splitlines() if "smtp server" in x)
            assert line.startswith("ok") == ok, done.stdout
    assert server.handler.received == []  # a probe sends nothing


def test_check_and_run_refuse_a_dkim_key_that_cannot_sign(tmp_path: Path) -> None:
    cli(tmp_path, "db", "upgrade")
    cfg = {"mail": {"dkim_selector": "s2026", "dkim_private_key": "not a PEM key"}}
    path = tmp_path / "dkim.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    checked = cli(tmp_path, "check", config=path)
    assert checked.returncode == 1
    assert "FAIL dkim: config error: mail.dkim_private_key: cannot sign" in checked.stdout
    started = cli(tmp_path, "run", config=path)
    assert started.returncode == 2 and "mail.dkim_private_key" in started.stderr
    assert "Traceback" not in started.stderr and "not a PEM key" not in started.stderr


def test_sqlite_refuses_a_second_sender_but_keeps_the_run(tmp_path: Path) -> None:
    import os
    from datetime import datetime

    from syndicator.config.databases import create_engine
    from syndicator.state.leases import PLACE, SENDER, key
    from syndicator.state.values import set_value

    assert cli(tmp_path, "demo").returncode == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'var/syndicator.db'}", "database.url")
    busy = f"{PLACE}:{os.getpid()}:other"  # this test process: alive
    with engine.begin() as conn:
        set_value(conn, key(SENDER), f"{busy}|{datetime.now(UTC).timestamp() + 600}")
    engine.dispose()
    run = cli(tmp_path, "digest", "run", "--frequency", "weekly")
    assert run.returncode == 0 and "queued; not sending now" in run.stdout, run.stderr
    deliver = cli(tmp_path, "deliver")
    assert deliver.returncode == 1 and "one sender" in deliver.stderr
    assert "Traceback" not in deliver.stderr
    assert deliver.stderr.strip().splitlines()[-1].startswith("syndicator: another process")
