"""`syndicator check`: the config, both databases, SMTP, DKIM, writable directories, the port."""

from __future__ import annotations

import asyncio
import errno
import socket
import tempfile
from pathlib import Path

import sqlalchemy as sa

from syndicator.config.databases import redacted
from syndicator.config.settings import Settings
from syndicator.delivery.dkim import make_signer
from syndicator.delivery.transport import SmtpTransport
from syndicator.errors import SyndicatorError
from syndicator.runtime.probe import local_host, probe
from syndicator.source.portal import PortalSource
from syndicator.state import problems
from syndicator.state.db import check_current, state_engine

Result = tuple[str, bool, str]  # (what, ok, detail)


def check_all(settings: Settings) -> list[Result]:
    """(what, ok, detail) for the config and each database; nothing is written."""
    results: list[Result] = [("config", True, "valid")]
    try:
        engine = state_engine(settings)
        check_current(engine)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        results.append(("state database", True, redacted(engine.url)))
        results.append(_skipped_rows(engine))
    except SyndicatorError as exc:
        results.append(("state database", False, str(exc)))
    try:
        source = PortalSource(settings.source, settings.tz)
        source.ping()
        what = (f"table {settings.source.table!r}" if settings.source.query is None else
                f"query with {', '.join(source.describe().cols)}")
        results.append(("source database", True, f"{source.display_url} {what}"))
    except SyndicatorError as exc:
        results.append(("source database", False, str(exc)))
    if settings.mail.transport == "smtp":
        results.append(_check_smtp(settings))
    else:
        results.append(("smtp server", True, "not contacted: mail.transport is file "
                        f"(messages go to {settings.mail.outbox_dir})"))
    results.append(_check_dkim(settings))
    results += _check_returns(settings)
    return results + local_checks(settings)


def _check_returns(settings: Settings) -> list[Result]:
    """Where returned mail must go (said, not checked: the MX is the relay's business), and
    the bounce mailbox when there is one (logged in, nothing moved)."""
    b = settings.bounces
    if b.return_path is None:
        found: list[Result] = [("return path", True, (
            f"not set: mail goes out with MAIL FROM <{settings.mail.from_address}> and what "
            "comes back is matched by Message-ID and address only; set bounces.return_path "
            "(docs/returned-mail.md)"))]
    else:
        local, _, domain = b.return_path.rpartition("@")
        found = [("return path", True, (
            f"mail goes out with MAIL FROM <{local}+TAG@{domain}>: deliver {domain} (all "
            f"{local}+* addresses) to `syndicator bounces read --sysexits` or to the "
            "bounces.imap mailbox, and keep the relay from rewriting the envelope sender "
            "(docs/returned-mail.md)"))]
    if b.imap is not None:
        found.append(_check_mailbox(settings))
    return found


def _check_mailbox(settings: Settings) -> Result:
    from syndicator.bounces.imap import Mailbox

    imap = settings.bounces.imap
    assert imap is not None
    t = imap.target
    where = f"{'imaps' if t.implicit_tls else 'imap+starttls'}://{t.host}:{t.port} {t.mailbox!r}"
    try:
        waiting = Mailbox(imap, settings.bounces.max_message_bytes).waiting()
    except SyndicatorError as exc:
        return ("bounce mailbox", False, str(exc))
    return ("bounce mailbox", True, f"{where}: {waiting} message(s) waiting, read every "
            f"{imap.interval_seconds} s")


def _skipped_rows(engine: sa.Engine) -> Result:
    """Portal rows the last polls skipped: ingest goes on, but someone should fix them."""
    with engine.connect() as conn:
        by_reason = problems.counts(conn)
    if not by_reason:
        return ("source rows", True, "none skipped")
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(by_reason.items()))
    return ("source rows", True, f"{sum(by_reason.values())} skipped now ({reasons}); "
            "`syndicator source problems` lists them")


def _check_smtp(settings: Settings) -> Result:
    """Connect, greet, STARTTLS and log in as configured; nothing is sent."""

    async def greet() -> None:
        client = await SmtpTransport(settings.smtp).connect()
        await client.quit()

    s = settings.smtp
    where = f"{s.host}:{s.port} ({s.security}{', login' if s.username else ''})"
    try:
        asyncio.run(greet())
    except SyndicatorError as exc:
        return ("smtp server", False, str(exc))
    except Exception as exc:  # noqa: BLE001 - quit() after a good login failing: still a line
        return ("smtp server", False, f"{where}: {type(exc).__name__}: {exc}")
    return ("smtp server", True, where)


def _check_dkim(settings: Settings) -> Result:
    """Sign a sample message with the configured key (no DNS lookup)."""
    try:
        signer = make_signer(settings.mail)
    except SyndicatorError as exc:
        return ("dkim", False, str(exc))
    if signer is None:
        return ("dkim", True, "not configured (messages are not signed)")
    return ("dkim", True, f"signs as selector {settings.mail.dkim_selector!r}")


def local_checks(settings: Settings) -> list[Result]:
    results = [_writable("feeds directory", settings.feeds.output_dir)]
    if settings.mail.transport == "file":
        results.append(_writable("mail outbox directory", settings.mail.outbox_dir))
    results.append(_http_port(settings.http.host, settings.http.port))
    return results


def _writable(what: str, directory: Path) -> Result:
    """Create the directory if needed and a file in it, then remove the file."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".check-"):
            pass
    except OSError as exc:
        return what, False, f"{directory}: {exc.strerror or exc}"
    return what, True, f"{directory.absolute()} is writable"


def _http_port(host: str, port: int) -> Result:
    """Free, or already served by a running syndicator (a check next to the daemon)."""
    what = f"http {host}:{port}"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return what, True, "free to listen on"
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return what, False, f"cannot listen: {exc.strerror}"
    ready, detail = probe(local_host(host), port, timeout=3)
    if detail.startswith(("HTTP 200", "HTTP 503")):  # our /healthz/ready answered
        return what, True, f"in use by a running syndicator ({'ready' if ready else detail})"
    return what, False, "in use by another program"
