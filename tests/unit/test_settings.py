"""Configuration: file, environment, secret files, and one-line errors."""

from pathlib import Path

import pytest

from syndicator.config.loader import load_settings
from syndicator.config.settings import Settings
from syndicator.errors import ConfigError
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("SYNDICATOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_repo_config_equals_embedded_defaults() -> None:
    assert load_settings(REPO / "config.yaml") == Settings()


def test_environment_overrides_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("smtp: {host: mail.example, port: 25}\npoll: {interval_seconds: 30}\n")
    monkeypatch.setenv("SYNDICATOR_SMTP__PORT", "2525")
    monkeypatch.setenv("SYNDICATOR_DATABASE__URL", "postgresql://u:pw@db/x")
    s = load_settings(cfg)
    assert (s.smtp.host, s.smtp.port, s.poll.interval_seconds) == ("mail.example", 2525, 30)
    assert s.database.url.get_secret_value() == "postgresql://u:pw@db/x"


def test_config_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "other.yaml"
    cfg.write_text("http: {port: 9999}\n")
    monkeypatch.setenv("SYNDICATOR_CONFIG", str(cfg))
    assert load_settings().http.port == 9999


def test_secret_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("SYNDICATOR_SMTP__PASSWORD_FILE", str(secret))
    s = load_settings()
    assert s.smtp.password is not None
    assert s.smtp.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s) and "s3cret" not in str(s.model_dump())


def test_missing_secret_file_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATOR_SMTP__PASSWORD_FILE", "/nonexistent/pw")
    with pytest.raises(ConfigError, match="SYNDICATOR_SMTP__PASSWORD_FILE"):
        load_settings()


@pytest.mark.parametrize("yaml_text,key", [
    ("smtp: {port: abc}", "smtp.port"),
    ("smtp: {security: ssl}", "smtp.security"),
    ("timezone: Mars/Olympus", "timezone"),
    ("digests: {daily_at: '25:00'}", "digests.daily_at"),
    ("feeds: {max_entries: 0}", "feeds.max_entries"),
    ("smtp: {hots: x}", "smtp.hots"),
    ("public_base_url: not a url", "public_base_url"),
    ("delivery: {retry_delays: [-1]}", "delivery.retry_delays"),
])
def test_bad_value_is_one_line_naming_the_key(tmp_path: Path, yaml_text: str, key: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    message = str(info.value)
    assert message.startswith(f"config error: {key}:")
    assert "\n" not in message


def test_bad_secret_value_is_not_echoed(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("smtp: {password: [hunter2-secret]}")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "hunter2-secret" not in str(info.value)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("smtp:\n  host: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+ is not valid YAML"):
        load_settings(cfg)


def test_missing_explicit_file_is_an_error() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings("nope.yaml")



def test_a_lease_shorter_than_a_send_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATOR_DELIVERY__LEASE_SECONDS", "60")
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    assert err.value.exit_code == 2
    assert str(err.value) == ("config error: delivery.lease_seconds: must be at least "
                              "4 x smtp.timeout (120 s)")


@pytest.mark.parametrize("yaml_text,key", [
    ("digests: {daily_at: 7:00}", "digests.daily_at"),  # YAML 1.1 base 60: the number 420
    ("digests: {weekly_at: 700}", "digests.weekly_at"),
    ("mail: {from_address: notanaddress}", "mail.from_address"),
    ("mail: {reply_to: 'a b@c'}", "mail.reply_to"),
    ("mail: {list_id: 'bản tin'}", "mail.list_id"),
    ("mail: {dkim_selector: s2026}", "mail.dkim_selector"),
    ("source: {url: 'oracle://u:pw@h/x'}", "source.url"),
    ("database: {url: 'mssql://u:pw@h/x'}", "database.url"),
    ("database: {url: 'not a url at all'}", "database.url"),
])
def test_values_that_would_fail_later_fail_at_load(tmp_path: Path, yaml_text: str,
                                                   key: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    message = str(info.value)
    assert message.startswith(f"config error: {key}:"), message
    assert "\n" not in message and "Value error" not in message
    assert ":pw@" not in message


def test_quoted_clock_times_and_the_source_only_backend(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text('digests: {daily_at: "6:30", weekly_at: "18:05"}\n'
                   "source: {url: 'mssql://reader:pw@portal/cms'}\n")
    s = load_settings(cfg)
    assert (s.digests.daily_at.hour, s.digests.daily_at.minute) == (6, 30)
    assert (s.digests.weekly_at.hour, s.digests.weekly_at.minute) == (18, 5)


@pytest.mark.parametrize("variable,value,expected", [
    ("SYNDICATOR_MAIL__ALLOW_ONLY", '["*@a.gov.vn", "*@b.gov.vn"]', ["*@a.gov.vn", "*@b.gov.vn"]),
    ("SYNDICATOR_MAIL__ALLOW_ONLY", "*@a.gov.vn, *@b.gov.vn", ["*@a.gov.vn", "*@b.gov.vn"]),
    ("SYNDICATOR_SUBSCRIPTIONS__TRUSTED_PROXIES", "10.0.0.1", ["10.0.0.1"]),
    ("SYNDICATOR_DELIVERY__RETRY_DELAYS", "60,600", [60, 600]),
])
def test_environment_lists_as_json_or_commas(monkeypatch: pytest.MonkeyPatch, variable: str,
                                             value: str, expected: list[object]) -> None:
    monkeypatch.setenv(variable, value)
    section, key = variable.removeprefix("SYNDICATOR_").lower().split("__")
    assert getattr(getattr(load_settings(), section), key) == expected


@pytest.mark.parametrize("variable,value,key", [
    ("SYNDICATOR_DELIVERY__RETRY_DELAYS", "abc", "delivery.retry_delays.0"),
    ("SYNDICATOR_SMTP", "foo", "smtp"),
])
def test_undecodable_environment_is_one_line(monkeypatch: pytest.MonkeyPatch, variable: str,
                                             value: str, key: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(f"config error: {key}:")
    assert "\n" not in str(info.value)


def test_a_value_and_its_secret_file_together_are_refused(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    secret = tmp_path / "url"
    secret.write_text("postgresql://u:from-file@db/x")
    monkeypatch.setenv("SYNDICATOR_DATABASE__URL", "postgresql://u:from-env@db/x")
    monkeypatch.setenv("SYNDICATOR_DATABASE__URL_FILE", str(secret))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "SYNDICATOR_DATABASE__URL and SYNDICATOR_DATABASE__URL_FILE" in str(info.value)
    assert "from-file" not in str(info.value) and "from-env" not in str(info.value)


def test_the_image_config_leaves_secret_files_in_charge(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    """The container's own file must not pin the state database (docker/config.yaml)."""
    secret = tmp_path / "url"
    secret.write_text("postgresql://u:pw@db/state\n")
    monkeypatch.setenv("SYNDICATOR_CONFIG", str(REPO / "docker" / "config.yaml"))
    monkeypatch.setenv("SYNDICATOR_DATABASE__URL_FILE", str(secret))
    s = load_settings()
    assert s.database.url.get_secret_value() == "postgresql://u:pw@db/state"
    assert s.feeds.output_dir == Path("/data/feeds")
    assert s.source.url.get_secret_value() == "sqlite:////data/portal.db"
