"""The SMTP transport against a real server: each reply maps to sent, retry or bounce."""

from __future__ import annotations

import pytest

from syndicator.config.settings import SmtpSettings
from syndicator.delivery.transport import SmtpTransport

from .smtp_server import FaultyHandler, Refusing, SmtpServer

MSG = b"From: a@example.org\r\nTo: b@example.org\r\nMessage-ID: <x1@example.org>\r\n" \
      b"Subject: hi\r\n\r\nbody\r\n"


def smtp(port: int, **kw: object) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=2,
                        connections=2, **kw)


@pytest.mark.parametrize("action,status,code", [
    ("ok", "sent", 250), ("451", "retry", 451), ("452", "retry", 452),
    ("550", "bounce", 550), ("drop", "retry", None), ("lose250", "retry", None),
    ("hang", "retry", None)])
async def test_each_reply_is_classified(action: str, status: str, code: int | None) -> None:
    handler = FaultyHandler(plan={"b@example.org": [action]}, hang_seconds=5)
    with SmtpServer(handler) as server:
        transport = SmtpTransport(smtp(server.port))
        outcome = await transport.send(0, "a@example.org", "b@example.org", MSG, "x1")
        assert (outcome.status, outcome.code) == (status, code), outcome
        # The connection is usable again (reopened when the fault closed it).
        again = await transport.send(0, "a@example.org", "b@example.org", MSG, "x1")
        assert again.status == "sent"
        await transport.close()
    stored = len(handler.received)
    assert stored == (2 if action in ("ok", "lose250") else 1)


async def test_connections_are_reused() -> None:
    with SmtpServer() as server:
        transport = SmtpTransport(smtp(server.port))
        for i in range(5):
            assert (await transport.send(0, "a@example.org", f"r{i}@example.org", MSG,
                                         "x")).status == "sent"
        assert len(transport._conns) == 1
        await transport.close()
    assert len(server.handler.received) == 5


async def test_421_at_connect_is_unreachable_and_retried() -> None:
    with Refusing() as server:
        outcome = await SmtpTransport(smtp(server.port)).send(0, "a@example.org",
                                                              "b@example.org", MSG, "x")
    assert outcome.status == "retry" and outcome.unreachable
    assert "421" in outcome.reply or outcome.code == 421


async def test_starttls_required_fails_closed_on_a_plain_server() -> None:
    with SmtpServer() as server:
        settings = SmtpSettings(host="127.0.0.1", port=server.port, security="starttls",
                                timeout=2)
        outcome = await SmtpTransport(settings).send(0, "a@example.org", "b@example.org",
                                                     MSG, "x")
    assert outcome.status == "retry" and outcome.unreachable
    assert "STARTTLS" in outcome.reply.upper()
    assert server.handler.received == []


async def test_rate_per_second_holds_across_connections() -> None:
    import asyncio
    import time

    with SmtpServer() as server:
        transport = SmtpTransport(smtp(server.port, rate_per_second=20))
        started = time.monotonic()
        await asyncio.gather(*(transport.send(i % 2, "a@example.org", f"r{i}@example.org",
                                              MSG, "x") for i in range(11)))
        took = time.monotonic() - started
        await transport.close()
    assert len(server.handler.received) == 11
    assert took >= 0.5  # 11 sends at 20/s: the last may start 0.5 s after the first


async def test_lines_starting_with_a_dot_arrive_as_composed() -> None:
    """Dot-stuffing is ours (delivery/smtpwire.py): the server un-stuffs to the same bytes."""
    body = b"Subject: dots\r\n\r\n.leading\r\n..two\r\n.\r\nend =\r\n.x\r\n"
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        transport = SmtpTransport(smtp(server.port))
        outcome = await transport.send(0, "a@example.org", "b@example.org", body, "d1")
        await transport.close()
    assert (outcome.status, outcome.code) == ("sent", 250)
    assert handler.received[0].data == body
