"""The settings model: every key, its default and its rule (loaded by settings_loader)."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from syndicator.config.bounces import BounceSettings
from syndicator.config.console import ConsoleSettings
from syndicator.config.databases import check_url
from syndicator.config.sections import Section
from syndicator.errors import ConfigError
from syndicator.models.address import URL_SAFE, ascii_address

ENV_PREFIX = "SYNDICATOR_"
MIN_SECRET_BYTES = 32
_CLOCK = re.compile(r"([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ContactSettings(Section):
    """How readers reach the department: in the footer of every mail and page (None: left out)."""

    address: str | None = "Số 1 đường Trường Chinh, phường Đức Xuân, thành phố Bắc Kạn"
    phone: str | None = "0209 3870 000"
    email: str | None = "vanthu@sonoivu.backan.example"
    hours: str | None = "Thứ Hai đến thứ Sáu, sáng 7:30–11:30, chiều 13:30–17:00"

    @field_validator("email")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is not None:
            ascii_address(v)
        return v

    @property
    def given(self) -> bool:
        return any((self.address, self.phone, self.email, self.hours))


class SiteSettings(Section):
    title: str = "Sở Nội vụ tỉnh Bắc Kạn"
    url: AnyHttpUrl = AnyHttpUrl("https://sonoivu.backan.example/")
    language: str = "vi"
    icon: AnyHttpUrl | None = None  # square image: Atom icon, JSON Feed icon and favicon
    logo: AnyHttpUrl | None = None  # wide image (2:1): Atom logo, RSS image
    contact: ContactSettings = ContactSettings()


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
    # Official-document details and files: absent unless mapped.
    document_number: str | None = None
    issued_at: str | None = None
    issuer: str | None = None
    document_type: str | None = None
    attachments: str | None = None  # one column: URLs one per line, or a JSON array


class SourceSettings(Section):
    url: SecretStr = SecretStr("sqlite:///var/portal.db")
    table: str = "bulletins"
    db_schema: str | None = Field(default=None, alias="schema")
    columns: ColumnMap = ColumnMap()
    published_status: str = "published"
    # A SELECT whose column labels are our field names, read instead of `table`.
    query: str | None = None
    # Fields of `query` whose underlying columns lead an index: the time window may use them.
    indexed_fields: list[Literal["published_at", "updated_at"]] = []
    # Splits the category value into several categories (";" from GROUP_CONCAT/string_agg).
    category_separator: str | None = None
    # A SELECT labelled bulletin_id, url, title, size, type: a bulletin's files.
    attachments_query: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("query", "attachments_query")
    @classmethod
    def _select(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        text = v.strip().rstrip(";").strip()
        if not re.match(r"(?is)(select|with)\b", text):
            raise ValueError("must be a SELECT statement")
        return text

    @field_validator("category_separator")
    @classmethod
    def _separator(cls, v: str | None) -> str | None:
        return v or None

    @field_validator("url")
    @classmethod
    def _supported(cls, v: SecretStr) -> SecretStr:
        check_url(v.get_secret_value())
        return v


class DatabaseSettings(Section):
    url: SecretStr = SecretStr("sqlite:///var/syndicator.db")

    @field_validator("url")
    @classmethod
    def _supported(cls, v: SecretStr) -> SecretStr:
        check_url(v.get_secret_value(), state=True)
        return v


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
    max_content_bytes: int = Field(default=100_000, ge=0)

    @property
    def hub(self) -> str | None:
        """The WebSub hub as text, or None when feeds do not announce one."""
        return str(self.websub_hub) if self.websub_hub else None


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
    operator_address: str | None = None  # told when a digest run misses its deadline

    # Checked here with the rule the composer applies, so a bad address stops the program at
    # start instead of failing every message.
    @field_validator("from_address", "reply_to", "unsubscribe_mailto", "operator_address")
    @classmethod
    def _sendable(cls, v: str | None) -> str | None:
        if v is not None:
            ascii_address(v)
        return v

    @field_validator("list_id")
    @classmethod
    def _list_id(cls, v: str | None) -> str | None:
        if v is not None and not (v.isascii() and URL_SAFE.fullmatch(v)):
            raise ValueError("must be ASCII without spaces, like bantin.example.gov.vn")
        return v

    @model_validator(mode="after")
    def _dkim_complete(self) -> MailSettings:
        if (self.dkim_selector is None) != (self.dkim_private_key is None):
            raise ValueError("mail.dkim_selector: set it together with mail.dkim_private_key "
                             "(both or neither)")
        return self


class SmtpSettings(Section):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = Field(default=30, gt=0)
    connections: int = Field(default=8, ge=1, le=64)
    rate_per_second: float = Field(default=0, ge=0)
    allow_plaintext_auth: bool = False  # AUTH without TLS to a host that is not loopback

    @model_validator(mode="after")
    def _auth_needs_tls(self) -> SmtpSettings:
        # Without TLS, AUTH PLAIN/LOGIN sends the password readable to anyone on the path.
        if (self.security == "none" and self.username and not self.allow_plaintext_auth
                and not _loopback(self.host)):
            raise ValueError("smtp.security: none would send smtp.password unencrypted to "
                             f"{self.host[:100]}; use starttls or tls, or set "
                             "smtp.allow_plaintext_auth: true if the network is private")
        return self


def _loopback(host: str) -> bool:
    if host.strip().lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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


class DeadlineSettings(Section):
    """Minutes after its scheduled time by which a run must be complete (null: no deadline)."""

    immediate: int | None = Field(default=10, ge=1)
    daily: int | None = Field(default=60, ge=1)
    weekly: int | None = Field(default=120, ge=1)

    def of(self, frequency: str) -> int | None:
        minutes: int | None = getattr(self, frequency)
        return minutes


class DigestSettings(Section):
    daily_at: time = time(7, 0)
    weekly_on: Weekday = "monday"
    weekly_at: time = time(7, 0)
    working_days_only: bool = False
    extra_days_off: list[date] = []
    extra_working_days: list[date] = []
    canary: list[str] = []
    deadline_minutes: DeadlineSettings = DeadlineSettings()

    @field_validator("canary")
    @classmethod
    def _canary_addresses(cls, v: list[str]) -> list[str]:
        for address in v:
            ascii_address(address)
        if len({a.casefold() for a in v}) != len(v):
            raise ValueError("an address is listed twice")
        return v

    @field_validator("extra_days_off", "extra_working_days", mode="before")
    @classmethod
    def _iso_dates(cls, v: Any) -> Any:
        # Pydantic would also take numbers (as Unix times) and datetimes; a decision's day
        # is written one way only, so a typo cannot pass as some other day.
        if not isinstance(v, list):
            raise ValueError('write a list of dates, e.g. ["2026-08-22"]')
        return [_iso_date(item) for item in v]

    @model_validator(mode="after")
    def _days_disjoint(self) -> DigestSettings:
        both = sorted(set(self.extra_days_off) & set(self.extra_working_days))
        if both:
            raise ValueError(f"digests.extra_working_days: {both[0].isoformat()} is also in "
                             "digests.extra_days_off (a day is one or the other)")
        return self

    @field_validator("daily_at", "weekly_at", mode="before")
    @classmethod
    def _clock_time(cls, v: Any) -> Any:
        # YAML 1.1 reads an unquoted 7:00 as the number 420 (base 60), which would pass as
        # 00:07; only "HH:MM" text (or a time object from code) is accepted.
        if isinstance(v, time):
            return v
        if not (isinstance(v, str) and _CLOCK.fullmatch(v.strip())):
            raise ValueError('write the time as quoted "HH:MM" text, e.g. "07:00"')
        parts = [int(part) for part in v.strip().split(":")]
        return time(parts[0], parts[1], parts[2] if len(parts) > 2 else 0)


def _iso_date(v: Any) -> date:
    if isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, str) and _ISO_DATE.fullmatch(v.strip()):
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise ValueError(f"{str(v)[:40]!r} is not a date: write YYYY-MM-DD, e.g. 2026-08-22")


class CorrectionSettings(Section):
    """Corrections and withdrawals of bulletins already mailed (docs/adr/018)."""

    notify: Literal["immediate", "next_digest", "off"] = "immediate"
    # A version is new "in substance" when its visible text (title, summary, body; markup and
    # white space ignored) differs from the last announced one by at least this many
    # characters (Levenshtein distance). 1: every change of wording, a digit of a date too.
    min_changed_chars: int = Field(default=1, ge=1)


class PollSettings(Section):
    interval_seconds: int = Field(default=10, ge=1)


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    access_log: bool = False  # one `http.access` log line per request
    metrics_port: int | None = Field(default=None, ge=1, le=65535)  # /metrics apart, on host
    metrics_token: SecretStr | None = None  # /metrics only with Authorization: Bearer <token>

    @model_validator(mode="after")
    def _metrics_apart(self) -> HttpSettings:
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ValueError("http.metrics_port: must differ from http.port")
        return self


class SubscriptionSettings(Section):
    allowed_domains: list[str] = []
    confirm_days: int = Field(default=7, ge=1)
    mail_interval_minutes: int = Field(default=60, ge=0)
    requests_per_client_per_hour: int = Field(default=20, ge=0)
    mails_per_hour: int = Field(default=200, ge=0)
    trusted_proxies: list[str] = []

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for proxy in v:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy[:60]!r} is not an IP address or network") from None
        return v


class SecuritySettings(Section):
    secret_key: SecretStr | None = None

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        # A short key can be guessed offline from any one signed link (HMAC-SHA1 in
        # itsdangerous): every subscriber's links would then be forgeable.
        if v is not None and len(v.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes long (e.g. the output "
                             "of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return v


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
    bounces: BounceSettings = BounceSettings()
    console: ConsoleSettings = ConsoleSettings()
    corrections: CorrectionSettings = CorrectionSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like "
                             "Asia/Ho_Chi_Minh)") from None
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

    @property
    def feeds_url(self) -> str:
        """Where the feed files are served: every feed link is this plus a file name."""
        return f"{self.base_url}/feeds"

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

    def _load_env_vars(self) -> Any:
        env = super()._load_env_vars()
        return {k: v for k, v in env.items() if not k.endswith("_file")}

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        """Lists as JSON or comma-separated (`*@a.gov.vn,*@b.gov.vn`); anything else: one line."""
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            if field is not None and get_origin(field.annotation) is list:
                return [part.strip() for part in str(value).split(",") if part.strip()]
            raise ConfigError(f"config error: {field_name}: the environment gives it a value "
                              "that is not JSON; set single keys as "
                              f"{ENV_PREFIX}<SECTION>__<KEY>") from None
