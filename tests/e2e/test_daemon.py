"""`syndicator run` as an operator sees it: health, metrics, logs, signals."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.daemon import Daemon, clean_env, cli, free_port


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A working directory with the demo portal seeded, as after `make run`'s first steps."""
    done = cli(tmp_path, clean_env(), "demo")
    assert done.returncode == 0, done.stderr
    return tmp_path


@pytest.fixture
def daemon(demo_dir: Path) -> Iterator[Daemon]:
    port = free_port()
    d = Daemon(demo_dir, clean_env(http__port=str(port)), port).start()
    yield d
    d.kill()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_live_ready_metrics_then_sigterm_exits_zero(daemon: Daemon) -> None:
    daemon.wait_ready()
    assert daemon.get("/healthz/live").json() == {"status": "alive"}
    assert daemon.get("/healthz/ready").json() == {"status": "ready"}

    response = daemon.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    # The demo portal holds 13 rows: 11 public and recent (announced), 2 not public.
    assert samples[("syndicator_bulletins_ingested_total", (("kind", "new"),))] == 11
    assert samples[("syndicator_ready", ())] == 1
    assert samples[("syndicator_build_info", (("version", version("syndicator")),))] == 1
    assert samples[("syndicator_job_last_success_timestamp_seconds", (("task", "poll"),))] > 0
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"syndicator_deliveries", "syndicator_delivery_queue_depth",
            "syndicator_send_duration_seconds", "syndicator_publication_to_send_seconds",
            "syndicator_feeds_rebuilt", "syndicator_job_failures"} <= names

    code, seconds = daemon.stop(signal.SIGTERM)
    assert code == 0 and seconds < 10
    events = daemon.log_events()  # every stdout line is a JSON object with an event name
    assert all(isinstance(e.get("event"), str) and e["event"] for e in events)
    names_seen = [e["event"] for e in events]
    assert "daemon.started" in names_seen and "poll.done" in names_seen
    assert names_seen[-1] == "daemon.stopped"
    assert "Traceback" not in daemon.logs_text()


def test_ctrl_c_stops_cleanly_without_traceback(daemon: Daemon) -> None:
    daemon.wait_ready()
    code, seconds = daemon.stop(signal.SIGINT)
    assert (code, seconds < 10) == (0, True)
    assert "Traceback" not in daemon.logs_text()
    assert daemon.err.read_text() == ""


def test_busy_port_is_one_line_and_exit_2(demo_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli(demo_dir, clean_env(http__port=str(port)), "run")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"syndicator: config error: http: cannot listen on 127.0.0.1:{port}: "
        "Address already in use"]


def test_healthcheck_verb_follows_readiness(daemon: Daemon) -> None:
    env = daemon.env
    daemon.wait_ready()
    ok = cli(daemon.cwd, env, "healthcheck")
    assert ok.returncode == 0, ok.stderr
    daemon.stop()
    down = cli(daemon.cwd, env, "healthcheck", "--timeout", "2")
    assert down.returncode == 1
    assert "no answer" in down.stderr


def test_check_reports_directories_and_the_port(daemon: Daemon, tmp_path: Path) -> None:
    daemon.wait_ready()
    ok = cli(daemon.cwd, daemon.env, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"ok   http 127.0.0.1:{daemon.port}: in use by a running syndicator (ready)" in ok.stdout
    assert "ok   feeds directory:" in ok.stdout and "ok   mail outbox directory:" in ok.stdout
    assert "ok   smtp server: not contacted: mail.transport is file" in ok.stdout
    assert "ok   dkim: not configured" in ok.stdout

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    bad = cli(daemon.cwd, {**daemon.env, "SYNDICATOR_FEEDS__OUTPUT_DIR": str(blocked / "feeds")},
              "check")
    assert bad.returncode == 1
    assert f"FAIL feeds directory: {blocked / 'feeds'}:" in bad.stdout
