"""Transports behind one seam: SMTP (aiosmtplib, pooled connections) and .eml files."""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib
import structlog

from syndicator.config.settings import MailSettings, SmtpSettings
from syndicator.delivery import smtpwire
from syndicator.errors import TransientError

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of one message: sent, retry later, or bounced (final, a 5xx)."""

    status: Literal["sent", "retry", "bounce"]
    code: int | None
    reply: str
    # The server could not be reached at all: stop sending this round, retry later.
    unreachable: bool = False


class Transport(Protocol):
    async def open(self) -> None: ...
    async def eightbit(self) -> bool:
        """Whether messages may go with 8bit bodies now (RFC 6152); may connect to ask."""
        ...
    async def send(self, slot: int, sender: str, rcpt: str, data: bytes, name: str) -> Outcome: ...
    async def close(self) -> None: ...


class FileTransport:
    """Each message an .eml file named by its delivery, written atomically (a retry overwrites).
    With `stamp_sender`, the envelope sender is written first as a Return-Path header, as the
    receiving server records it (so a tagged MAIL FROM can be seen in the file)."""

    def __init__(self, mail: MailSettings, stamp_sender: bool = False) -> None:
        self._dir = Path(mail.outbox_dir)
        self._stamp = stamp_sender

    async def open(self) -> None:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError:  # each send then says why, and is retried like a 4xx
            pass

    async def eightbit(self) -> bool:
        return True  # a file has no transport to pass: UTF-8 as it is, lines within 998

    async def send(self, slot: int, sender: str, rcpt: str, data: bytes, name: str) -> Outcome:
        if self._stamp:
            data = f"Return-Path: <{sender}>\r\n".encode("ascii") + data
        try:
            _write_atomic(self._dir / f"{name}.eml", data)
        except OSError as exc:
            return Outcome("retry", None, f"cannot write {name}.eml: {exc.strerror}")
        return Outcome("sent", None, f"written {name}.eml")

    async def close(self) -> None:
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    # Not *.eml until complete: a script that picks up *.eml never reads a partial file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RateLimiter:
    """At most `rate` sends per second across every connection (0 = unlimited)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class SmtpTransport:
    """`smtp.connections` connections, each reused for many messages, reopened after a failure."""

    def __init__(self, smtp: SmtpSettings, tls_context: ssl.SSLContext | None = None) -> None:
        self._s = smtp
        self._tls = tls_context or ssl.create_default_context()
        self._conns: dict[int, aiosmtplib.SMTP] = {}
        self._limiter = RateLimiter(smtp.rate_per_second)
        self._8bit: bool | None = None  # what the last greeting said about 8BITMIME
        self._refused: Outcome | None = None  # eightbit() could not connect

    async def open(self) -> None:
        return None  # connections open lazily: a run with nothing to send connects nowhere

    async def eightbit(self) -> bool:
        """What the server's last EHLO said; connects slot 0 (kept for sending) to learn it."""
        if self._8bit is None and 0 not in self._conns and self._refused is None:
            try:
                self._conns[0] = await self.connect()
            except TransientError as exc:
                # Sending reports it, without connecting again: no hammering a refusing server.
                self._refused = Outcome("retry", _code_of(exc.__context__), str(exc),
                                        unreachable=True)
        return bool(self._8bit)

    async def connect(self) -> aiosmtplib.SMTP:
        """Connect, greet, STARTTLS (required when configured) and log in; raises TransientError."""
        s = self._s
        client = aiosmtplib.SMTP(hostname=s.host, port=s.port, timeout=s.timeout,
                                 use_tls=s.security == "tls", start_tls=False,
                                 tls_context=self._tls if s.security != "none" else None)
        try:
            await client.connect()
            if s.security == "starttls":
                # Fails closed: a server without STARTTLS raises instead of sending in clear.
                await client.starttls(tls_context=self._tls)
            if s.username:
                password = s.password.get_secret_value() if s.password else ""
                await client.login(s.username, password)
            if client.is_ehlo_or_helo_needed:
                await client.ehlo()
            self._8bit = client.supports_extension("8bitmime")
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            client.close()
            raise TransientError(f"SMTP server {s.host}:{s.port}: {_describe(exc)}") from None
        return client

    async def send(self, slot: int, sender: str, rcpt: str, data: bytes, name: str) -> Outcome:
        if self._refused is not None:
            return self._refused
        client = self._conns.get(slot)
        if client is None or not client.is_connected:
            try:
                client = self._conns[slot] = await self.connect()
            except TransientError as exc:
                self._conns.pop(slot, None)
                return Outcome("retry", _code_of(exc.__context__), str(exc), unreachable=True)
        await self._limiter.wait()
        try:
            reply = await smtpwire.transaction(client, sender, rcpt, data, self._s.timeout)
        except asyncio.CancelledError:
            self._drop(slot)  # cut mid-transaction: this connection's state is unknown
            raise
        except smtpwire.Needs8BitMime as exc:
            # This connection's server differs from the one the message was composed for.
            self._8bit = False
            return Outcome("retry", None, f"{exc}; composed 7-bit on the next attempt")
        except aiosmtplib.SMTPRecipientRefused as exc:
            return _by_code(exc.code, exc.message)
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421 or isinstance(exc, aiosmtplib.SMTPSenderRefused):
                self._drop(slot)
                return Outcome("retry", exc.code, exc.message)
            return _by_code(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Timeouts, lost connections: the server may or may not have the message.
            self._drop(slot)
            return Outcome("retry", None, _describe(exc))
        return Outcome("sent", _reply_code(reply), reply)

    def _drop(self, slot: int) -> None:
        client = self._conns.pop(slot, None)
        if client is not None:
            client.close()

    async def close(self) -> None:
        for slot, client in list(self._conns.items()):
            try:
                await asyncio.wait_for(client.quit(), timeout=min(self._s.timeout, 5))
            except (TimeoutError, aiosmtplib.SMTPException, OSError):
                client.close()
            self._conns.pop(slot, None)


def _by_code(code: int, message: str) -> Outcome:
    if 200 <= code < 300:
        return Outcome("sent", code, message)
    return Outcome("bounce" if code >= 500 else "retry", code, message)


def _reply_code(reply: str) -> int | None:
    head = reply[:3]
    return int(head) if head.isdigit() else 250


def _code_of(exc: BaseException | None) -> int | None:
    return getattr(exc, "code", None)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:400]


def make_transport(mail: MailSettings, smtp: SmtpSettings,
                   stamp_sender: bool = False) -> Transport:
    """The configured transport; `stamp_sender` (file only): record each MAIL FROM."""
    return SmtpTransport(smtp) if mail.transport == "smtp" else FileTransport(mail, stamp_sender)
