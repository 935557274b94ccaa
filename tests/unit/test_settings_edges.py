"""Operator typos and secrets: unknown SYNDICATOR_* variables, short signing keys, SMTP AUTH
without TLS, and passwords in database URLs (the query string too) masked."""

from __future__ import annotations

import io

import pytest

from syndicator.config.databases import redacted
from syndicator.config.loader import load_settings
from syndicator.config.secrets import secret_values
from syndicator.config.settings import Settings
from syndicator.errors import ConfigError
from syndicator.telemetry import logs


@pytest.mark.parametrize("variable,hint", [
    ("SYNDICATOR_SMPT__HOST", "did you mean SYNDICATOR_SMTP__HOST?"),
    ("SYNDICATOR_HTTP_PORT", "did you mean SYNDICATOR_HTTP__PORT?"),
    ("SYNDICATOR_FOO__BAR", "two underscores between levels"),
    ("SYNDICATOR_SMTP__PASWORD_FILE", "did you mean SYNDICATOR_SMTP__PASSWORD_FILE?"),
])
def test_a_variable_naming_no_key_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                         variable: str, hint: str) -> None:
    monkeypatch.setenv(variable, "x")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert variable in message and hint in message and "\n" not in message
    assert info.value.exit_code == 2


@pytest.mark.parametrize("variable", ["SYNDICATOR_CONFIG", "SYNDICATOR_TEST_ANYTHING",
                                      "SYNDICATOR_UPDATE_GOLDEN", "SYNDICATOR_SMTP",
                                      "SYNDICATOR_BOUNCES__IMAP__TIMEOUT",
                                      "SYNDICATOR_SOURCE__COLUMNS__TITLE"])
def test_variables_the_program_and_its_tests_use_are_accepted(
        monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    from syndicator.config.environment import check_names

    check_names({variable: "x"})  # no error


def test_a_short_secret_key_is_refused_without_showing_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATOR_SECURITY__SECRET_KEY", "short-key-31-bytes-long-xxxxxxx")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith("config error: security.secret_key: must be at least 32 bytes")
    assert "short-key" not in message and "\n" not in message and info.value.exit_code == 2
    monkeypatch.setenv("SYNDICATOR_SECURITY__SECRET_KEY", "k" * 32)
    assert load_settings().security.secret_key is not None


@pytest.mark.parametrize("host,allowed", [("smtp.example.gov.vn", False), ("127.0.0.1", True),
                                          ("localhost", True), ("::1", True)])
def test_smtp_auth_without_tls_only_to_loopback_or_when_allowed(host: str,
                                                                allowed: bool) -> None:
    smtp = {"host": host, "security": "none", "username": "u", "password": "p"}
    if allowed:
        Settings(smtp=smtp)
    else:
        with pytest.raises(ValueError, match="smtp.allow_plaintext_auth"):
            Settings(smtp=smtp)
        Settings(smtp=smtp | {"allow_plaintext_auth": True})
    Settings(smtp=smtp | {"security": "starttls"})


def test_passwords_in_urls_are_masked_in_the_query_string_too() -> None:
    url = "postgresql://syn@db.internal/state?password=Qs3cret&sslmode=require"
    shown = redacted(url)
    assert "Qs3cret" not in shown and "password=***" in shown and "sslmode=require" in shown
    assert "Us3cret" not in redacted("mysql://u:Us3cret@h/x?passwd=zz9") and \
        "zz9" not in redacted("mysql://u:Us3cret@h/x?passwd=zz9")


def test_log_lines_and_error_lines_never_carry_a_configured_secret() -> None:
    settings = Settings(database={"url": "postgresql://syn@db/state?password=Qs3cret"},
                        smtp={"password": "smtp-pw-9"})
    logs.hide(secret_values(settings))
    stream = io.StringIO()
    try:
        logs.configure("info", "json", stream=stream)
        import structlog

        structlog.get_logger("t").error("job.failed", error="connect to db?password=Qs3cret "
                                        "failed; smtp-pw-9 refused")
        assert "Qs3cret" not in stream.getvalue() and "smtp-pw-9" not in stream.getvalue()
        assert logs.scrub("x Qs3cret y") == "x *** y"
    finally:
        logs.hide([])
