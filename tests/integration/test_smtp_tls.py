"""TLS to the mail server: STARTTLS and implicit TLS work with a trusted certificate; an
untrusted certificate is refused before anything is sent."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme
from aiosmtpd.controller import Controller

from syndicator.config.settings import SmtpSettings
from syndicator.delivery.transport import SmtpTransport

from .smtp_server import FaultyHandler, free_port

MSG = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: tls\r\n\r\nbody\r\n"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[tuple[str, int,
                                                                                  FaultyHandler]]:
    handler = FaultyHandler()
    port = free_port()
    if request.param == "starttls":
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                tls_context=server_context(ca), require_starttls=True)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                ssl_context=server_context(ca))
    controller.start()
    yield request.param, port, handler
    controller.stop()


async def test_verified_tls_sends(tls_server: tuple[str, int, FaultyHandler],
                                  ca: trustme.CA) -> None:
    security, port, handler = tls_server
    settings = SmtpSettings(host="127.0.0.1", port=port, security=security, timeout=5)
    transport = SmtpTransport(settings, tls_context=client_context(ca))
    outcome = await transport.send(0, "a@example.org", "b@example.org", MSG, "x")
    await transport.close()
    assert outcome.status == "sent", outcome
    assert len(handler.received) == 1


async def test_untrusted_certificate_is_refused(tls_server: tuple[str, int, FaultyHandler]) -> None:
    security, port, handler = tls_server
    settings = SmtpSettings(host="127.0.0.1", port=port, security=security, timeout=5)
    outcome = await SmtpTransport(settings).send(0, "a@example.org", "b@example.org", MSG, "x")
    assert outcome.status == "retry" and outcome.unreachable
    assert "CERTIFICATE" in outcome.reply.upper() or "SSL" in outcome.reply.upper(), outcome
    assert handler.received == []
