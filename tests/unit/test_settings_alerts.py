"""digests.canary, digests.deadline_minutes and mail.operator_address: from YAML and the
environment, and a bad value stops the start with one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator.config.loader import load_settings
from syndicator.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("SYNDICATOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_no_canary_no_operator_and_the_deadlines() -> None:
    s = load_settings()
    assert s.digests.canary == [] and s.mail.operator_address is None
    minutes = s.digests.deadline_minutes
    assert (minutes.of("immediate"), minutes.of("daily"), minutes.of("weekly")) == (10, 60, 120)


def test_from_yaml_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("digests:\n  canary: [kiemtra@sonoivu.gov.vn]\n"
                   "  deadline_minutes: {daily: 30, weekly: null}\n"
                   "mail:\n  operator_address: vanhanh@sonoivu.gov.vn\n")
    monkeypatch.setenv("SYNDICATOR_DIGESTS__DEADLINE_MINUTES__IMMEDIATE", "5")
    s = load_settings(cfg)
    assert s.digests.canary == ["kiemtra@sonoivu.gov.vn"]
    assert s.mail.operator_address == "vanhanh@sonoivu.gov.vn"
    minutes = s.digests.deadline_minutes
    assert (minutes.of("immediate"), minutes.of("daily"), minutes.of("weekly")) == (5, 30, None)
    monkeypatch.setenv("SYNDICATOR_DIGESTS__CANARY", "a@sonoivu.gov.vn,b@sonoivu.gov.vn")
    assert load_settings(cfg).digests.canary == ["a@sonoivu.gov.vn", "b@sonoivu.gov.vn"]


@pytest.mark.parametrize("yaml,key", [
    ("digests:\n  canary: [not an address]\n", "digests.canary"),
    ("digests:\n  canary: [a@x.gov.vn, A@x.gov.vn]\n", "digests.canary"),
    ("digests:\n  deadline_minutes: {daily: 0}\n", "digests.deadline_minutes.daily"),
    ("digests:\n  deadline_minutes: {monthly: 5}\n", "digests.deadline_minutes.monthly"),
    ("mail:\n  operator_address: 'ops@x.gov.vn\\r\\nBcc: y@z'\n", "mail.operator_address"),
])
def test_a_bad_value_names_its_key(tmp_path: Path, yaml: str, key: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml)
    with pytest.raises(ConfigError) as caught:
        load_settings(cfg)
    assert f"config error: {key}:" in str(caught.value)
    assert "\n" not in str(caught.value)
