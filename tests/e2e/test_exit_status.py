"""Exit status as a supervisor reads it: 75 for mail left queued for a retry, and one daemon
per SQLite state database."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.e2e.daemon import Daemon, clean_env, free_port
from tests.e2e.test_delivery_cli import cli
from tests.integration.smtp_server import SmtpServer


def _smtp_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "smtp.yaml"
    path.write_text(yaml.safe_dump({
        "mail": {"transport": "smtp"},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 3},
        "delivery": {"retry_delays": [60]}}), encoding="utf-8")
    return path


def test_deliver_and_digest_run_exit_75_while_mail_waits_for_a_retry(tmp_path: Path) -> None:
    assert cli(tmp_path, "demo").returncode == 0
    assert cli(tmp_path, "poll").returncode == 0  # one immediate message queued
    gone = _smtp_config(tmp_path, free_port())  # nothing listens there: the server vanished
    run = cli(tmp_path, "digest", "run", "--frequency", "weekly", config=gone)
    assert run.returncode == 75, run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith(
        "syndicator: 1 message(s) still queued for a retry")
    assert "Traceback" not in run.stderr
    deliver = cli(tmp_path, "deliver", "--retry-now", config=gone)
    assert deliver.returncode == 75 and "still queued" in deliver.stderr, deliver.stderr
    waiting = cli(tmp_path, "deliver", config=gone)  # nothing due before its backoff ends
    assert waiting.returncode == 0, waiting.stderr

    with SmtpServer() as server:  # back: everything goes, and the exit is 0
        done = cli(tmp_path, "deliver", "--retry-now", config=_smtp_config(tmp_path, server.port))
        assert done.returncode == 0 and "deliver: 1 sent" in done.stdout, done.stderr
        assert len(server.handler.received) == 1


def test_a_second_daemon_on_one_sqlite_file_is_refused_at_start(tmp_path: Path) -> None:
    dirs = [tmp_path / name for name in ("a", "b")]
    for d in dirs:
        d.mkdir()
    assert cli(dirs[0], "demo").returncode == 0
    env = clean_env(database__url=f"sqlite:///{dirs[0] / 'var' / 'syndicator.db'}",
                    source__url=f"sqlite:///{dirs[0] / 'var' / 'portal.db'}",
                    poll__interval_seconds="1")
    ports = [free_port(), free_port()]
    first = Daemon(dirs[0], env | {"SYNDICATOR_HTTP__PORT": str(ports[0])}, ports[0]).start()
    try:
        first.wait_ready()
        second_env = env | {"SYNDICATOR_HTTP__PORT": str(ports[1])}
        second = Daemon(dirs[1], second_env, ports[1]).start()
        assert second.proc is not None
        code = second.proc.wait(timeout=60)
        err = second.err.read_text().strip().splitlines()
        assert code == 1, second.logs_text()
        assert len(err) == 1 and err[0].startswith("syndicator: another syndicator daemon")
        assert "SQLite allows one" in err[0]
        assert first.get("/healthz/ready").status_code == 200  # the first goes on
        assert first.stop()[0] == 0
        third = Daemon(dirs[1], second_env, ports[1]).start()  # the file is free again
        third.wait_ready()
        assert third.stop()[0] == 0
    finally:
        first.kill()
