"""The running daemon's /metrics passes `promtool check metrics` and carries every series the
shipped alert rules and Grafana dashboard query."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.daemon import Daemon, clean_env, cli, free_port
from tests.support.promtool import (
    ALERTS,
    dashboard_queries,
    exposed_labels,
    exposed_names,
    label_names,
    metric_names,
    promtool,
    run,
)


@pytest.fixture(scope="module")
def exposition(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """/metrics of a demo daemon once its poll, delivery, feeds and recovery jobs have run."""
    promtool()  # skip or fail before starting a daemon for nothing
    cwd: Path = tmp_path_factory.mktemp("metrics-daemon")
    port = free_port()
    env = clean_env(http__port=str(port), poll__interval_seconds="2")
    for verb in (("db", "upgrade"), ("demo",)):
        done = cli(cwd, env, *verb)
        assert done.returncode == 0, done.stderr
    daemon = Daemon(cwd, env, port).start()
    try:
        daemon.wait_ready()
        daemon.wait_for("each job to succeed once", lambda: all(
            f'job_last_success_timestamp_seconds{{task="{job}"}}' in daemon.get("/metrics").text
            for job in ("poll", "deliver", "feeds", "recovery")))
        yield daemon.get("/metrics").text
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()


def test_metrics_pass_promtool_lint(exposition: str) -> None:
    done = run("check", "metrics", stdin=exposition.encode())
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), \
        done.stdout + done.stderr


def test_every_series_the_alerts_use_is_exported(exposition: str) -> None:
    wanted = metric_names(ALERTS.read_text(encoding="utf-8"))
    assert "syndicator_digest_run_overdue" in wanted
    assert wanted - exposed_names(exposition) == set()


def test_every_series_the_dashboard_uses_is_exported(exposition: str) -> None:
    wanted = metric_names("\n".join(dashboard_queries()))
    assert len(wanted) >= 10
    assert wanted - exposed_names(exposition) == set()


def test_overdue_gauge_starts_at_zero_for_each_frequency(exposition: str) -> None:
    # Pre-created, so `max by (frequency) (...) == 1` has a series to compare from the start.
    for frequency in ("immediate", "daily", "weekly"):
        assert f'syndicator_digest_run_overdue{{frequency="{frequency}"}} 0.0' in exposition


def test_every_label_the_alerts_and_dashboard_use_is_exported(exposition: str) -> None:
    used = label_names(ALERTS.read_text(encoding="utf-8") + "\n".join(dashboard_queries()))
    assert {"task", "frequency", "result"} <= used
    # Labels of counters that nothing has incremented yet (pages, bulletins) have no sample.
    assert used - exposed_labels(exposition) <= {"kind", "action", "reason"}


def test_the_jobs_the_alerts_name_are_our_job_label_values(exposition: str) -> None:
    # A renamed label or job would leave these alerts matching nothing, silently.
    jobs = set(re.findall(r'task="([a-z_]+)"', ALERTS.read_text(encoding="utf-8")))
    assert jobs >= {"poll", "deliver", "recovery", "feeds"}
    for job in jobs:
        assert f'syndicator_job_last_success_timestamp_seconds{{task="{job}"}}' in exposition
