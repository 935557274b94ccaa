"""Digests through the delivery engine to a real SMTP server: 8bit where it offers 8BITMIME
(RFC 6152, BODY=8BITMIME), quoted-printable where it does not; the HTML part within 100,000
bytes as transmitted either way, for 1 to 80 long Vietnamese bulletins."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.delivery import send
from syndicator.delivery.transport import SmtpTransport
from syndicator.planning import due
from tests.support.sizes import LEAD, TITLE, transmitted_html

from .delivery_data import add_bulletin, add_subscriber
from .smtp_server import FaultyHandler, SmtpServer

NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
IN_PERIOD = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class Handler(FaultyHandler):
    """Records MAIL FROM's parameters; can keep 8BITMIME out of its EHLO reply."""

    def __init__(self, eightbit: bool) -> None:
        super().__init__()
        self.eightbit = eightbit
        self.mail_options: list[list[str]] = []

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        return responses if self.eightbit else [r for r in responses if "8BITMIME" not in r]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mail_options.append(list(envelope.mail_options))
        return await super().handle_DATA(server, session, envelope)


def settings_for(port: int, tmp: Path) -> Settings:
    return Settings(mail={"transport": "smtp", "outbox_dir": str(tmp / "mail")},
                    smtp={"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5,
                          "connections": 2},
                    delivery={"retry_delays": [0], "max_attempts": 3, "lease_seconds": 30},
                    security={"secret_key": "test-secret-key-for-links-0123456789"})


def seed(engine: sa.Engine, n: int) -> None:
    for i in range(n):
        bid = add_bulletin(engine, IN_PERIOD + timedelta(seconds=i), title=TITLE.format(i=i))
        with engine.begin() as conn:  # the long lead a digest shows (480 characters)
            conn.execute(sa.text("UPDATE bulletins SET summary = :s WHERE id = :i"),
                         {"s": LEAD, "i": bid})
    add_subscriber(engine, "vanphong@example.gov.vn")
    add_subscriber(engine, "lon@example.gov.vn", text_size="large")


@pytest.mark.parametrize("eightbit", [True, False], ids=["8BITMIME", "no-8BITMIME"])
@pytest.mark.parametrize("n", [1, 20, 80])
async def test_digests_as_transmitted(state: sa.Engine, tmp_path: Path, n: int,
                                      eightbit: bool) -> None:
    seed(state, n)
    handler = Handler(eightbit)
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path)
        due.run_digest(settings, state, "daily", NOW)
        report = await send.deliver_due(settings, state, asyncio.Event())
    assert report.sent == 2 and len(handler.received) == 2
    for got, options in zip(handler.received, handler.mail_options, strict=True):
        cte, body = transmitted_html(got.data)
        assert len(body) <= 100_000, len(body)
        assert cte == ("8bit" if eightbit else "quoted-printable")
        assert ("BODY=8BITMIME" in options) is eightbit
        assert got.data.isascii() is not eightbit
        assert max(len(line) for line in got.data.split(b"\r\n")) <= 998
        msg = email.message_from_bytes(got.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage) and not msg.defects
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert re.search(r"/unsubscribe/[^\"]+\"[^<]*>Hủy đăng ký", html)
        assert html.rstrip().endswith("</html>") and html.rfind("</footer>") > html.rfind(
            "</main>")


async def test_an_8bit_message_never_goes_to_a_server_without_8bitmime() -> None:
    """Composed for one server, sent to another: refused before MAIL, retried 7-bit."""
    handler = Handler(eightbit=False)
    with SmtpServer(handler) as server:
        smtp = settings_for(server.port, Path("/tmp")).smtp
        transport = SmtpTransport(smtp)
        assert await transport.eightbit() is False
        outcome = await transport.send(0, "a@example.org", "b@example.org",
                                       "Subject: ă\r\n\r\nă\r\n".encode(), "x")
        seven = await transport.send(0, "a@example.org", "b@example.org",
                                     b"Subject: a\r\n\r\na\r\n", "y")
        await transport.close()
    assert outcome.status == "retry" and "8BITMIME" in outcome.reply
    assert seven.status == "sent" and len(handler.received) == 1
