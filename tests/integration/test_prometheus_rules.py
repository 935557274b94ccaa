"""The shipped alert rules and Grafana dashboard are valid for Prometheus's own checker."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.support.promtool import ALERT_TESTS, ALERTS, DASHBOARD, dashboard_queries, run


def test_alert_rules_pass_promtool_check() -> None:
    done = run("check", "rules", str(ALERTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_main_alerts_fire_when_they_should() -> None:
    """promtool's unit tests: overdue run, poll failing, not ready, queue, bounces."""
    done = run("test", "rules", ALERT_TESTS.name, cwd=ALERT_TESTS.parent)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_severity_and_a_summary() -> None:
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    assert {"SyndicatorDigestRunOverdue", "SyndicatorPollFailing", "SyndicatorNotReady",
            "SyndicatorQueueGrowing", "SyndicatorDeliveriesFailing"} <= {r["alert"] for r in rules}
    for rule in rules:
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    # promtool parses PromQL only inside rule files: each panel query becomes a recording rule.
    queries = dashboard_queries()
    assert len(queries) >= 15
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": q} for i, q in enumerate(queries)]}]}
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True))
    done = run("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_dashboard_is_importable_grafana_json() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert board["uid"] == "syndicator" and board["schemaVersion"] >= 36
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_example_scrape_config_loads_the_rules() -> None:
    done = run("check", "config", str(ALERTS.parent / "prometheus.example.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "alerts.yaml" in done.stdout
