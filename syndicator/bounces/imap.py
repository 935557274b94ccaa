"""Emptying a mailbox of returned mail over IMAP with TLS: hand each message on, then file it.

Each message goes to the callback and, once the callback returned, is moved to the processed
folder (MOVE, or COPY + \\Deleted + EXPUNGE on servers without it). A crash between the two
leaves the message in place, and the next round hands it over again: the callback must have
one effect per message (key it by `message_key`), which is what makes a re-read harmless.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

from syndicator.config.bounces import BounceImapSettings, ImapTarget
from syndicator.errors import TransientError

log = structlog.get_logger(__name__)
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_T = TypeVar("_T")


class MailboxError(TransientError):
    """The mailbox cannot be read now (unreachable, TLS or login refused, a command failed)."""


@dataclass(frozen=True)
class Round:
    """What one pass over the mailbox did."""

    handled: int  # messages given to the callback and then moved
    oversize: int  # of those, how many were cut at the size limit
    left: bool  # more messages were waiting than one round takes


class Mailbox:
    """One IMAP mailbox (`bounces.imap`), read in rounds of at most `batch` messages."""

    def __init__(self, settings: BounceImapSettings, limit: int) -> None:
        self._settings = settings
        self._target: ImapTarget = settings.target
        self._limit = limit

    def drain(self, handle: Callable[[bytes], object]) -> Round:
        """Hand each waiting message to `handle` (at most limit + 1 bytes of it, so that a
        classifier sees it is too big), then move it. The mailbox's failures raise
        MailboxError; an exception from `handle` propagates as it is, with that message left
        in place for the next round."""
        with self._session() as conn:
            uids, move = self._imap(self._prepare, conn)
            batch = uids[: self._settings.batch]
            oversize = 0
            for uid in batch:
                raw, size = self._imap(self._fetch, conn, uid)
                oversize += size > self._limit
                handle(raw)
                self._imap(move, uid)
        log.info("bounces.imap_round", handled=len(batch), oversize=oversize,
                 waiting=len(uids) - len(batch))
        return Round(len(batch), oversize, len(uids) > len(batch))

    def waiting(self) -> int:
        """Log in and count the messages waiting, changing nothing (`syndicator check`)."""
        with self._session() as conn:
            data = self._imap(lambda: _ok(conn.select(_quoted(self._target.mailbox),
                                                      readonly=True), "SELECT"))
        return int(data[0]) if data and data[0] else 0

    @contextmanager
    def _session(self) -> Iterator[imaplib.IMAP4]:
        conn = self._imap(self._connect)
        try:
            yield conn
        finally:
            with suppress(imaplib.IMAP4.error, OSError):
                conn.logout()

    def _imap(self, call: Callable[..., _T], *args: Any) -> _T:
        """`call(*args)`, with the IMAP library's and the network's errors as MailboxError."""
        try:
            return call(*args)
        except (imaplib.IMAP4.error, OSError) as exc:  # ssl.SSLError is an OSError
            t = self._target
            raise MailboxError(f"bounces.imap: {t.host}:{t.port} mailbox {t.mailbox!r}: "
                               f"{_reason(exc)}") from None

    def _connect(self) -> imaplib.IMAP4:
        t, timeout = self._target, self._settings.timeout
        context = ssl.create_default_context(
            cafile=str(self._settings.trusted_ca) if self._settings.trusted_ca else None)
        if t.implicit_tls:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(t.host, t.port, ssl_context=context,
                                                    timeout=timeout)
        else:
            conn = imaplib.IMAP4(t.host, t.port, timeout=timeout)
            conn.starttls(ssl_context=context)  # raises when the server does not offer it
        conn.login(t.username, t.password)
        return conn

    def _prepare(self, conn: imaplib.IMAP4) -> tuple[list[bytes], Callable[[bytes], None]]:
        """Select the mailbox, make the processed folder, list the waiting UIDs."""
        folder = _quoted(self._settings.processed_folder)
        _ok(conn.select(_quoted(self._target.mailbox)), "SELECT")
        conn.create(folder)  # NO [ALREADYEXISTS] after the first time: fine
        uids: list[bytes] = _ok(conn.uid("SEARCH", "ALL"), "SEARCH")[0].split()
        return uids, _mover(conn, folder)

    def _fetch(self, conn: imaplib.IMAP4, uid: bytes) -> tuple[bytes, int]:
        """The message's first limit + 1 bytes, and its whole size as the server says."""
        spec = f"(RFC822.SIZE BODY.PEEK[]<0.{self._limit + 1}>)"
        data = _ok(conn.uid("FETCH", uid.decode(), spec), "FETCH")
        for item in data:
            if isinstance(item, tuple) and b"BODY[" in item[0]:
                found = _SIZE.search(item[0])
                return item[1], int(found[1]) if found else len(item[1])
        raise imaplib.IMAP4.error(f"FETCH of UID {uid.decode()} returned no body")


def _mover(conn: imaplib.IMAP4, folder: str) -> Callable[[bytes], None]:
    """MOVE (RFC 6851) where offered; else COPY, flag \\Deleted, and expunge that one UID."""
    capabilities = _ok(conn.capability(), "CAPABILITY")[0].upper().split()

    def move(uid: bytes) -> None:
        _ok(conn.uid("MOVE", uid.decode(), folder), "MOVE")

    def copy_delete(uid: bytes) -> None:
        _ok(conn.uid("COPY", uid.decode(), folder), "COPY")
        _ok(conn.uid("STORE", uid.decode(), "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        # Without UIDPLUS a plain EXPUNGE also removes what others flagged \Deleted.
        _ok(conn.uid("EXPUNGE", uid.decode()) if b"UIDPLUS" in capabilities
            else conn.expunge(), "EXPUNGE")

    return move if b"MOVE" in capabilities else copy_delete


def _ok(response: tuple[str, list[Any]], command: str) -> list[Any]:
    typ, data = response
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{command} refused: {_first_text(data)}")
    return [d for d in data if d is not None]


def _first_text(data: list[Any]) -> str:
    first = data[0] if data else b""
    return first.decode("ascii", "replace")[:200] if isinstance(first, bytes) else str(first)


def _quoted(name: str) -> str:
    return f'"{name}"'  # the settings allow no quote or backslash in folder names


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
