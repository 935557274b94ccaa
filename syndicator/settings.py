"""Configuration: config.yaml, then secret files, then SYNDICATOR_* environment; loaded once."""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from syndicator.errors import ConfigError

ENV_PREFIX = "SYNDICATOR_"
DEFAULT_CONFIG = Path("config.yaml")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSettings(Section):
    title: str = "Sở Nội vụ tỉnh Bắc Kạn"
    url: AnyHttpUrl = AnyHttpUrl("https://sonoivu.backan.example/")
    language: str = "vi"


class ColumnMap(Section):
    """Our field name -> the portal's column name; optional fields may be null (absent)."""

    id: str = "id"
    title: str = "title"
    summary: str | None = "summary"
    body_html: str | None = "body_html"
    author: str | None = "author"
    category: str | None = "category"
    url: str = "url"
    published_at: str = "published_at"
    updated_at: str | None = "updated_at"
    status: str = "status"


class SourceSettings(Section):
    url: SecretStr = SecretStr("sqlite:///var/portal.db")
    table: str = "bulletins"
    db_schema: str | None = Field(default=None, alias="schema")
    columns: ColumnMap = ColumnMap()
    published_status: str = "published"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DatabaseSettings(Section):
    url: SecretStr = SecretStr("sqlite:///var/syndicator.db")


class IngestSettings(Section):
    overlap_seconds: int = Field(default=600, ge=0)
    hot_days: int = Field(default=8, ge=1)
    hot_limit: int = Field(default=500, ge=10)
    sweep_batch: int = Field(default=200, ge=10)
    notify_max_age_days: int = Field(default=30, ge=0)


class FeedSettings(Section):
    output_dir: Path = Path("var/feeds")
    max_entries: int = Field(default=50, ge=1, le=1000)
    tombstone_days: int = Field(default=30, ge=0)
    websub_hub: AnyHttpUrl | None = None


class MailSettings(Section):
    transport: Literal["file", "smtp"] = "file"
    outbox_dir: Path = Path("var/mail")
    from_address: str = "bantin@sonoivu.backan.example"
    from_name: str = "Sở Nội vụ tỉnh Bắc Kạn"
    reply_to: str | None = None
    list_id: str | None = None
    unsubscribe_mailto: str | None = None
    allow_only: list[str] = []
    dkim_selector: str | None = None
    dkim_domain: str | None = None  # default: the domain of from_address
    dkim_private_key: SecretStr | None = None  # PEM; better: ..._PRIVATE_KEY_FILE


class SmtpSettings(Section):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = Field(default=30, gt=0)
    connections: int = Field(default=8, ge=1, le=64)
    rate_per_second: float = Field(default=0, ge=0)


class DeliverySettings(Section):
    retry_delays: list[int] = [60, 300, 1800, 7200, 21600]
    max_attempts: int = Field(default=6, ge=1)
    lease_seconds: int = Field(default=300, ge=10)
    bounce_threshold: int = Field(default=3, ge=1)
    retention_days: int = Field(default=730, ge=1)

    @field_validator("retry_delays")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if not v or any(d < 0 for d in v):
            raise ValueError("must be a non-empty list of seconds >= 0")
        return v


class DigestSettings(Section):
    daily_at: time = time(7, 0)
    weekly_on: Weekday = "monday"
    weekly_at: time = time(7, 0)


class PollSettings(Section):
    interval_seconds: int = Field(default=60, ge=1)


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class SubscriptionSettings(Section):
    allowed_domains: list[str] = []
    confirm_days: int = Field(default=7, ge=1)
    mail_interval_minutes: int = Field(default=60, ge=0)
    requests_per_client_per_hour: int = Field(default=20, ge=0)
    trusted_proxies: list[str] = []


class SecuritySettings(Section):
    secret_key: SecretStr | None = None


class LogSettings(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class Settings(BaseSettings):
    """Every setting; the defaults are the embedded demo (config.yaml says the same)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    timezone: str = "Asia/Ho_Chi_Minh"
    public_base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8080")
    site: SiteSettings = SiteSettings()
    source: SourceSettings = SourceSettings()
    database: DatabaseSettings = DatabaseSettings()
    ingest: IngestSettings = IngestSettings()
    feeds: FeedSettings = FeedSettings()
    mail: MailSettings = MailSettings()
    smtp: SmtpSettings = SmtpSettings()
    delivery: DeliverySettings = DeliverySettings()
    digests: DigestSettings = DigestSettings()
    poll: PollSettings = PollSettings()
    http: HttpSettings = HttpSettings()
    subscriptions: SubscriptionSettings = SubscriptionSettings()
    security: SecuritySettings = SecuritySettings()
    log: LogSettings = LogSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like Asia/Ho_Chi_Minh)")
        return v

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        # A lease that can expire while its SMTP transaction still runs lets a second sender
        # take the same delivery: a duplicate that no crash caused.
        if self.delivery.lease_seconds < 4 * self.smtp.timeout:
            raise ValueError("delivery.lease_seconds: must be at least 4 x smtp.timeout "
                             f"({4 * self.smtp.timeout:g} s)")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_url(self) -> str:
        """public_base_url without a trailing slash, to append paths to."""
        return str(self.public_base_url).rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init carries the YAML file and the *_FILE secrets, merged by load_settings.
        return (_PlainEnvSource(settings_cls), init_settings)


class _PlainEnvSource(EnvSettingsSource):
    """The SYNDICATOR_* variables, less the *_FILE ones that name secret files."""

    def _load_env_vars(self) -> Any:  # type: ignore[override]
        env = super()._load_env_vars()
        return {k: v for k, v in env.items() if not k.endswith("_file")}


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load the file (explicit, $SYNDICATOR_CONFIG, or ./config.yaml), secrets and environment."""
    data = _read_yaml(_config_path(path, os.environ))
    _merge(data, _secret_files(os.environ))
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _config_path(path: str | os.PathLike[str] | None, env: Any) -> Path | None:
    explicit = path or env.get(ENV_PREFIX + "CONFIG")
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise ConfigError(f"config file {str(p)!r} does not exist or is not a file")
        return p
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def _read_yaml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {str(path)!r}{where} is not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of sections")
    return data


def _secret_files(env: Any) -> dict[str, Any]:
    """SYNDICATOR_SMTP__PASSWORD_FILE=/run/secrets/smtp sets smtp.password (Docker secrets)."""
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not (name.startswith(ENV_PREFIX) and name.endswith("_FILE")):
            continue
        keys = name[len(ENV_PREFIX):-len("_FILE")].lower().split("__")
        try:
            secret = Path(value).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}: cannot read secret file {value!r}: {exc.strerror}") from None
        _merge(out, _nest(keys, secret))
    return out


def _nest(keys: list[str], value: Any) -> dict[str, Any]:
    for key in reversed(keys):
        value = {key: value}
    return value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _describe(exc: ValidationError) -> str:
    """One line: the dotted key and the problem, never the (possibly secret) value."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"]
    if not err["loc"] and msg.startswith("Value error, "):  # a cross-key rule names its key
        key, _, msg = msg.removeprefix("Value error, ").partition(": ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling against config.yaml)"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"config error: {key}: {msg}{tail}"
