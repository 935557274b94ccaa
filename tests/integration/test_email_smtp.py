"""Composed bytes go through a real SMTP exchange (aiosmtplib -> aiosmtpd) unchanged."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.support.digests import bulletin, digest, recipient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


async def test_digest_bytes_arrive_byte_for_byte() -> None:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=60)
    controller.start()
    try:
        dotted = bulletin(1, title=".Tin bắt đầu bằng dấu chấm", summary="<p>.\n..\n.</p>")
        r = recipient(name="Phòng Nội vụ huyện Chợ Đồn")
        raw = DigestComposer(Settings()).message(
            digest(bulletins=(dotted, bulletin(2))), r, message_id="<smtp.1@syndicator.example>",
            date=datetime(2023, 11, 27, 0, 5, tzinfo=UTC))
        errors, _ = await asyncio.wait_for(aiosmtplib.send(
            raw, sender="bantin@sonoivu.backan.example", recipients=[r.email],
            hostname="127.0.0.1", port=port, start_tls=False, use_tls=False), timeout=60)
        assert errors == {}
    finally:
        controller.stop()
    (mail_from, rcpts, content), = sink.received
    assert rcpts == [r.email] and mail_from == "bantin@sonoivu.backan.example"
    assert content == raw
    msg = email.message_from_bytes(content, policy=email.policy.default)
    assert ".Tin bắt đầu bằng dấu chấm" in msg.get_body(("plain",)).get_content()
