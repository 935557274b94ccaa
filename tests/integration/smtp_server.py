"""A real aiosmtpd server on a free 127.0.0.1 port whose replies a test scripts per recipient."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    rcpt: str
    message_id: str
    data: bytes


@dataclass
class FaultyHandler:
    """Per recipient, a list of actions consumed one per attempt; then "ok".

    ok | 451 | 452 | 550 (at RCPT) | drop (connection cut mid-DATA, not stored) |
    lose250 (stored, then the connection is cut before the 250) | hang (no answer to DATA)
    """

    plan: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)
    hang_seconds: float = 30.0
    delay_seconds: float = 0.0  # a slow server: every DATA answered after this long

    def _action(self, rcpt: str, consume: bool) -> str:
        with self.lock:
            steps = self.plan.get(rcpt.lower(), [])
            action = steps[0] if steps else "ok"
            if consume and steps:
                steps.pop(0)
            return action

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self.lock:
            self.attempts[address.lower()] += 1
        action = self._action(address, consume=False)
        if action in ("451", "452", "550"):
            self._action(address, consume=True)
            text = {"451": "451 4.3.0 try later", "452": "452 4.2.2 mailbox full",
                    "550": "550 5.1.1 no such user"}[action]
            return text
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0]
        action = self._action(rcpt, consume=True)
        data = envelope.original_content or envelope.content
        if action == "drop":
            server.transport.abort()
            return "451 never seen"
        if action == "hang":
            await asyncio.sleep(self.hang_seconds)
            server.transport.abort()
            return "451 too late"
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        msg = email.message_from_bytes(data)
        with self.lock:
            self.received.append(Received(rcpt.lower(), msg.get("Message-ID", ""), data))
        if action == "lose250":
            server.transport.abort()
        return "250 2.0.0 queued"

    def by_rcpt(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = defaultdict(list)
        with self.lock:
            for r in self.received:
                out[r.rcpt].append(r)
        return out


class SmtpServer:
    """Start/stop an aiosmtpd Controller in its own thread."""

    def __init__(self, handler: FaultyHandler | None = None) -> None:
        self.handler = handler or FaultyHandler()
        self.port = free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                      ready_timeout=30)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class Refusing:
    """A server that answers 421 to every connection and hangs up (busy or down for upkeep)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"421 4.3.2 Service not available, closing channel\r\n")
        await writer.drain()
        writer.close()

    def __enter__(self) -> Refusing:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", self.port), self._loop)
        self._server = fut.result(10)
        return self

    async def _close(self) -> None:
        self._server.close()  # in the server's own loop: asyncio servers are not thread-safe

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
