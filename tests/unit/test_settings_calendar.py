"""The working-calendar keys of `digests`: dates from YAML and the environment, one-line errors."""

from __future__ import annotations

from datetime import date
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


def test_defaults_send_every_day() -> None:
    d = load_settings().digests
    assert (d.working_days_only, d.extra_days_off, d.extra_working_days) == (False, [], [])


def test_dates_from_yaml_quoted_or_not(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("digests:\n  working_days_only: true\n"
                   "  extra_days_off: [2027-02-12, '2027-02-15']\n"
                   "  extra_working_days: ['2027-02-20']\n")
    d = load_settings(cfg).digests
    assert d.working_days_only is True
    assert d.extra_days_off == [date(2027, 2, 12), date(2027, 2, 15)]
    assert d.extra_working_days == [date(2027, 2, 20)]


def test_dates_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATOR_DIGESTS__EXTRA_DAYS_OFF", "2027-02-12,2027-02-15")
    monkeypatch.setenv("SYNDICATOR_DIGESTS__EXTRA_WORKING_DAYS", '["2027-02-20"]')
    monkeypatch.setenv("SYNDICATOR_DIGESTS__WORKING_DAYS_ONLY", "true")
    d = load_settings().digests
    assert d.extra_days_off == [date(2027, 2, 12), date(2027, 2, 15)]
    assert d.extra_working_days == [date(2027, 2, 20)] and d.working_days_only


@pytest.mark.parametrize("yaml_text,key,hint", [
    ("digests: {extra_days_off: ['12/02/2027']}", "digests.extra_days_off", "YYYY-MM-DD"),
    ("digests: {extra_days_off: [20270212]}", "digests.extra_days_off", "YYYY-MM-DD"),
    ("digests: {extra_working_days: ['2027-02-30']}", "digests.extra_working_days",
     "YYYY-MM-DD"),
    ("digests: {extra_working_days: '2027-02-20'}", "digests.extra_working_days", "list"),
    ("digests: {extra_days_off: [2027-02-20], extra_working_days: [2027-02-20]}",
     "digests.extra_working_days", "2027-02-20 is also in digests.extra_days_off"),
    ("digests: {working_days_only: perhaps}", "digests.working_days_only", ""),
])
def test_bad_dates_are_one_line_naming_the_key(tmp_path: Path, yaml_text: str, key: str,
                                               hint: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    message = str(info.value)
    assert message.startswith(f"config error: {key}:") and hint in message
    assert "\n" not in message
