"""The `bounces` settings section: the VERP return path and the mailbox polled for returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator

from syndicator.config.sections import Section
from syndicator.models.address import ascii_address

_DEFAULT_PORTS = {"imaps": 993, "imap": 143}
# The longest VERP tag syndicator.compose.verp writes: "u-", a 15-digit subscriber id, "-",
# a 15-digit token version, "-", a 10-character MAC (tests/unit/test_bounce_verp.py checks).
MAX_TAG_LENGTH = 44


@dataclass(frozen=True)
class ImapTarget:
    """What `bounces.imap.url` says, taken apart (the password stays out of repr)."""

    implicit_tls: bool  # imaps:// (port 993); imap:// means STARTTLS, required
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"


def parse_imap_url(url: str) -> ImapTarget:
    """imaps://user:pass@host[:port][/MAILBOX] or imap://... (STARTTLS); ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError("must start with imaps:// (TLS) or imap:// (STARTTLS, required)")
    if not parts.hostname or parts.username is None or parts.password is None:
        raise ValueError("must name a user, a password and a host: imaps://user:pass@host/INBOX")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("the port is not a number between 1 and 65535") from None
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    _imap_name(mailbox)
    return ImapTarget(implicit_tls=parts.scheme == "imaps", host=parts.hostname, port=port,
                      username=unquote(parts.username), password=unquote(parts.password),
                      mailbox=mailbox)


def _imap_name(name: str) -> str:
    # Non-ASCII folder names need IMAP's modified UTF-7; printable ASCII is enough here.
    if not name or not name.isascii() or not name.isprintable() or '"' in name or "\\" in name:
        raise ValueError(f"{name!r}: use printable ASCII without quotes or backslashes")
    return name


class BounceImapSettings(Section):
    """A mailbox that receives what comes back, read over TLS and emptied into a folder."""

    url: SecretStr
    processed_folder: str = "Processed"
    # A private CA's certificate (PEM); default: the system's trust store. Not `ca_file`: a
    # key ending in _file would read as SYNDICATOR_..._FILE, the secret-file convention.
    trusted_ca: Path | None = None
    timeout: float = Field(default=30, gt=0)
    batch: int = Field(default=200, ge=1)  # messages per poll, so one round stays short
    interval_seconds: int = Field(default=60, ge=1)  # how often the daemon reads it

    @field_validator("url")
    @classmethod
    def _url(cls, v: SecretStr) -> SecretStr:
        parse_imap_url(v.get_secret_value())
        return v

    @field_validator("processed_folder")
    @classmethod
    def _folder(cls, v: str) -> str:
        return _imap_name(v)

    @property
    def target(self) -> ImapTarget:
        return parse_imap_url(self.url.get_secret_value())


class BounceSettings(Section):
    """`bounces:` in config.yaml. Without return_path, digests keep mail.from_address as
    their envelope sender and returns can only be matched by Message-ID and address."""

    return_path: str | None = None
    max_message_bytes: int = Field(default=10 * 1024 * 1024, ge=64 * 1024)
    imap: BounceImapSettings | None = None

    @field_validator("return_path")
    @classmethod
    def _return_path(cls, v: str | None) -> str | None:
        if v is None:
            return v
        address = ascii_address(v)
        local = address.rpartition("@")[0]
        if "+" in local:
            raise ValueError("the local part must not contain '+': the relay would deliver "
                             "bounces+TAG to the mailbox before the first '+'")
        if len(local) + 1 + MAX_TAG_LENGTH > 64:
            raise ValueError(f"the local part must be at most {63 - MAX_TAG_LENGTH} characters, "
                             "so that +TAG fits in the 64 an address allows")
        return address
