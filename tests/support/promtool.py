"""promtool (Debian package `prometheus`) for the tests: where it is, and what our files ask."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, REQUIRE

ALERTS = REPO / "deploy" / "prometheus" / "alerts.yaml"
ALERT_TESTS = REPO / "deploy" / "prometheus" / "alerts.test.yaml"
DASHBOARD = REPO / "deploy" / "grafana" / "syndicator.json"
_NAME = re.compile(r"\bsyndicator_[a-z_]+")
_MATCHER = re.compile(r"[{,]\s*([a-z_]+)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
# Labels Prometheus itself adds (the scrape target's). Ours never collide with them: the
# daemon's jobs are told apart by `task`, so Prometheus renames nothing.
SCRAPE_LABELS = {"job", "instance", "le"}
RENAMED_BY_PROMETHEUS: dict[str, str] = {}
# Grafana fills these in before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def promtool() -> str:
    """The promtool binary; a skip, or a failure where CI requires it."""
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool is not installed (apt-get install prometheus)"
        if REQUIRE:
            pytest.fail(reason + "; SYNDICATOR_TEST_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip(reason)
    return found


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, timeout=60, cwd=cwd)


def dashboard_queries() -> list[str]:
    """Every PromQL expression of the Grafana dashboard, Grafana's variables filled in."""
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    exprs += [a["expr"] for a in board["annotations"]["list"] if "expr" in a]
    out = []
    for expr in exprs:
        for var, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(var, value)
        out.append(expr)
    return out


def metric_names(text: str) -> set[str]:
    """The syndicator_* series names a PromQL text (or several) refers to."""
    return set(_NAME.findall(text))


def exposed_names(exposition: str) -> set[str]:
    """Every series name a /metrics page can carry, from its TYPE lines (a labelled family
    that has no sample yet still has its TYPE line)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names.update(f"{name}_{suffix}" for suffix in ("bucket", "count", "sum"))
    return names


def label_names(promql: str) -> set[str]:
    """Label names a PromQL text matches on or groups by (our names, before Prometheus
    renames a clashing `job` to `task`)."""
    names = set(_MATCHER.findall(promql))
    for group in _GROUPING.findall(promql):
        names.update(n.strip() for n in group.split(",") if n.strip())
    return {RENAMED_BY_PROMETHEUS.get(n, n) for n in names}


def exposed_labels(exposition: str) -> set[str]:
    """Every label name on a sample of a /metrics page, plus those the scrape adds."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {label for family in text_string_to_metric_families(exposition)
             for sample in family.samples for label in sample.labels}
    return found | SCRAPE_LABELS
