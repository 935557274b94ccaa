"""The daemon end to end: a bulletin published in the portal reaches an immediate subscriber's
mailbox on a real SMTP server and the feed, once, also across a SIGTERM in mid-send."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from prometheus_client.parser import text_string_to_metric_families

from syndicator.config.settings import Settings
from tests.e2e.daemon import Daemon, clean_env, cli, free_port
from tests.integration.smtp_server import FaultyHandler, SmtpServer
from tests.portal import Portal

pytest.importorskip("syndicator.compose.composer", reason="email composer not merged yet")

IMMEDIATE = "vanphong@ubnd-babe.example"  # the demo's immediate subscriber
TITLE = "Thông báo tuyển dụng công chức năm 2027 (kiểm thử)"


@dataclass
class TimedHandler(FaultyHandler):
    """Records when each message arrived; optionally holds the first DATA reply open."""

    arrived: list[tuple[float, str, bytes]] = field(default_factory=list)
    hold_first: float = 0.0
    data_started: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold_first and not self.data_started.is_set():
            self.data_started.set()
            await asyncio.sleep(self.hold_first)
        reply = await super().handle_DATA(server, session, envelope)
        with self.lock:
            self.arrived.append((time.time(), envelope.rcpt_tos[0].lower(),
                                 envelope.original_content or envelope.content))
        return reply

    def texts_to(self, rcpt: str) -> list[tuple[float, str]]:
        """(arrival time, all text of the message) for each message to `rcpt`."""
        with self.lock:
            items = [(t, data) for t, r, data in self.arrived if r == rcpt]
        return [(t, _text(data)) for t, data in items]

    def message_ids(self) -> list[str]:
        with self.lock:
            return [r.message_id for r in self.received]


def _text(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = [str(msg["Subject"])]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def _metric(daemon: Daemon, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(daemon.get("/metrics").text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpServer, TimedHandler]]:
    handler = TimedHandler()
    with SmtpServer(handler) as server:
        yield server, handler


def _start(tmp_path: Path, smtp_port: int, **extra: str) -> Daemon:
    port = free_port()
    env = clean_env(http__port=str(port), mail__transport="smtp", smtp__host="127.0.0.1",
                    smtp__port=str(smtp_port), smtp__security="none", **extra)
    seeded = cli(tmp_path, env, "demo")
    assert seeded.returncode == 0, seeded.stderr
    return Daemon(tmp_path, env, port).start()


def _publish(tmp_path: Path, bulletin_id: int) -> float:
    """Insert a published bulletin the way the portal's CMS would; returns when it committed."""
    portal = Portal(f"sqlite:///{tmp_path / 'var' / 'portal.db'}")
    portal.insert(bulletin_id, title=TITLE, category="Công chức, viên chức",
                  published_at=datetime.now(UTC))
    portal.engine.dispose()
    return time.time()


def _feed_titles(daemon: Daemon) -> list[str]:
    parsed = feedparser.parse(daemon.get("/feeds/all.atom").content)
    assert parsed.bozo == 0
    return [e.title for e in parsed.entries]


def test_published_bulletin_reaches_mail_and_feed_once(
        tmp_path: Path, smtp: tuple[SmtpServer, TimedHandler]) -> None:
    server, handler = smtp
    secrets = ("pw-Xq9-never-logged", "signing-key-never-logged-7-0123456789")
    daemon = _start(tmp_path, server.port, poll__interval_seconds="2",
                    smtp__password=secrets[0], security__secret_key=secrets[1])
    try:
        daemon.wait_ready()
        daemon.wait_for("the demo's immediate message", lambda: bool(handler.texts_to(IMMEDIATE)))
        assert TITLE not in _feed_titles(daemon)

        _publish(tmp_path, 9001)
        daemon.wait_for("the new bulletin in the immediate subscriber's mail", lambda: any(
            TITLE in text for _, text in handler.texts_to(IMMEDIATE)))
        daemon.wait_for("the new bulletin in all.atom", lambda: TITLE in _feed_titles(daemon))

        assert [TITLE in text for _, text in handler.texts_to(IMMEDIATE)].count(True) == 1
        assert _metric(daemon, "syndicator_deliveries_total", result="sent",
                       smtp_code="250") >= 2
        assert _metric(daemon, "syndicator_publication_to_send_seconds_count") >= 1
        code, seconds = daemon.stop()
        assert code == 0 and seconds < 10
        logs = daemon.logs_text()
        assert not [x for x in secrets if x in logs]
        assert [line for line in logs.splitlines() if line.count("@") > 1] == []
    finally:
        daemon.kill()
    ids = handler.message_ids()
    assert len(ids) == len(set(ids)), "a message was sent twice"


def test_sigterm_during_a_send_exits_zero_without_duplicates(
        tmp_path: Path, smtp: tuple[SmtpServer, TimedHandler]) -> None:
    server, handler = smtp
    handler.hold_first = 3.0  # the server sits on the first DATA for 3 s
    daemon = _start(tmp_path, server.port, poll__interval_seconds="2")
    try:
        daemon.wait_for("a send in progress", handler.data_started.is_set)
        code, seconds = daemon.stop(signal.SIGTERM)
        assert code == 0 and seconds < 10
        assert len(handler.received) == 1  # the in-flight message was finished, not cut

        restarted = Daemon(tmp_path, daemon.env, daemon.port).start()
        try:
            restarted.wait_ready()
            restarted.wait_for("an empty queue after restart", lambda: (
                _metric(restarted, "syndicator_job_last_success_timestamp_seconds",
                        task="deliver") > 0
                and _metric(restarted, "syndicator_delivery_queue_depth") == 0))
            assert restarted.stop()[0] == 0
        finally:
            restarted.kill()
    finally:
        daemon.kill()
    ids = handler.message_ids()
    assert len(ids) >= 1 and len(ids) == len(set(ids)), f"duplicates among {ids}"


def test_latency_publication_to_mail_at_default_poll_interval(
        tmp_path: Path, smtp: tuple[SmtpServer, TimedHandler],
        record_property: Any) -> None:
    """Worst case: published just after a poll, so it waits a whole default interval."""
    server, handler = smtp
    interval = Settings().poll.interval_seconds
    daemon = _start(tmp_path, server.port)  # poll.interval_seconds: the default
    try:
        daemon.wait_ready()
        daemon.wait_for("the demo's immediate message", lambda: bool(handler.texts_to(IMMEDIATE)))
        published = _publish(tmp_path, 9002)
        daemon.wait_for("the new bulletin by mail", lambda: any(
            TITLE in text for _, text in handler.texts_to(IMMEDIATE)), timeout=interval + 60)
        arrived = next(t for t, text in handler.texts_to(IMMEDIATE) if TITLE in text)
        latency = arrived - published
        assert daemon.stop()[0] == 0
        found = next(datetime.fromisoformat(e["timestamp"]).timestamp()
                     for e in daemon.log_events()
                     if e["event"] == "poll.done" and e["new"] == 1)
        record_property("publication_to_mail_seconds", round(latency, 1))
        print(f"\npublication -> immediate mail: {latency:.1f} s (poll interval {interval} s), "
              f"of which {arrived - found:.2f} s from the poll that found it to the server's 250")
        # The goal is a p95 of at most 15 s (bench/latency_bench.py measures the spread); this
        # worst-case sample gets 5 s of slack for a loaded CI machine.
        assert latency < 20
    finally:
        daemon.kill()


def test_sigterm_with_a_hung_smtp_server_still_exits_zero_within_10_s(
        tmp_path: Path, smtp: tuple[SmtpServer, TimedHandler]) -> None:
    server, handler = smtp
    handler.hold_first = 60.0  # the server never answers the first DATA in time
    daemon = _start(tmp_path, server.port, poll__interval_seconds="2")
    try:
        daemon.wait_for("a send in progress", handler.data_started.is_set)
        code, seconds = daemon.stop(signal.SIGTERM)
        assert code == 0 and seconds < 10
        assert "delivery.send_interrupted" in daemon.logs_text()
        stopped = [e for e in daemon.log_events() if e["event"] == "daemon.stopped"]
        assert stopped and stopped[0]["clean"] is True  # recorded as a retry, not abandoned
    finally:
        daemon.kill()
