"""The daemon end to end with a real relay and a real mailbox: digests go through Postfix with
a tagged envelope sender; Postfix bounces those for an address that does not exist and writes
its DSNs into the return path's mailbox in Dovecot; the daemon reads them over TLS. After
`delivery.bounce_threshold` of them the subscriber is `bounced`; nothing else changes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from syndicator.config.databases import create_engine
from tests.e2e.daemon import Daemon, clean_env, cli, free_port
from tests.integration.delivery_data import add_subscriber
from tests.integration.smtp_server import FaultyHandler, SmtpServer
from tests.portal import Portal
from tests.support.mailservers import MailServers, running

GHOST = "ghost@relay.test"  # Postfix accepts it, then bounces it: no such mailbox
AGENCY = "vanthu@remote.test"  # relayed by Postfix to a server that takes everything
DEMO = ("vanphong@ubnd-babe.example", "noivu@chodon.example", "hanhchinh@thpt-backan.example")


@pytest.fixture
def relay() -> Iterator[tuple[MailServers, FaultyHandler]]:
    handler = FaultyHandler()
    with SmtpServer(handler) as sink, running(remote=sink.port) as servers:
        yield servers, handler


def _subscribers(cwd: Path, env: dict[str, str]) -> dict[str, dict[str, object]]:
    listed = cli(cwd, env, "subscribers", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {s["email"]: s for s in json.loads(listed.stdout)}


def _publish(cwd: Path, bulletin_id: int) -> None:
    portal = Portal(f"sqlite:///{cwd / 'var' / 'portal.db'}")
    portal.insert(bulletin_id, title=f"Thông báo số {bulletin_id} (kiểm thử thư trả về)",
                  category="Công chức, viên chức", published_at=datetime.now(UTC))
    portal.engine.dispose()


def _metric(daemon: Daemon, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(daemon.get("/metrics").text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return -1.0


def test_bounces_from_a_real_relay_suspend_the_subscriber_and_nothing_else(
        tmp_path: Path, relay: tuple[MailServers, FaultyHandler]) -> None:
    servers, sink = relay
    port = free_port()
    env = clean_env(
        http__port=str(port), poll__interval_seconds="1", mail__transport="smtp",
        smtp__host="127.0.0.1", smtp__port=str(servers.smtp_port), smtp__security="none",
        security__secret_key="e2e-bounces-secret-0123456789abcdef", delivery__bounce_threshold="3",
        bounces__return_path="bounces@bounce.test", bounces__imap__url=servers.imap_url(),
        bounces__imap__trusted_ca=str(servers.ca_file), bounces__imap__interval_seconds="1")
    assert cli(tmp_path, env, "demo").returncode == 0
    for email in DEMO:
        assert cli(tmp_path, env, "subscribers", "remove", email).returncode == 0
    # Written directly: `subscribers add` refuses the reserved .test names the servers use.
    state = create_engine(f"sqlite:///{tmp_path / 'var' / 'syndicator.db'}", "database.url")
    for email in (GHOST, AGENCY):
        add_subscriber(state, email, frequency="immediate")
    state.dispose()
    daemon = Daemon(tmp_path, env, port).start()
    try:
        daemon.wait_ready()
        # Digest 1: the first poll announces the demo's bulletins; 2 and 3: one new each.
        for n in range(3):
            if n:
                _publish(tmp_path, 9100 + n)
            daemon.wait_for(f"digest {n + 1} at the agency",
                            lambda n=n: len(sink.by_rcpt()[AGENCY]) == n + 1)  # type: ignore[misc]
        daemon.wait_for("the third DSN read and the subscriber bounced", lambda: (
            _subscribers(tmp_path, env)[GHOST]["status"] == "bounced"), timeout=90)
        _publish(tmp_path, 9104)  # after the suspension: only the agency gets it
        daemon.wait_for("digest 4 at the agency", lambda: len(sink.by_rcpt()[AGENCY]) == 4)
        time.sleep(2)  # a round of the returns job and of the sender after it
        assert _metric(daemon, "syndicator_returned_messages_last_day", kind="hard") == 3
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    subs = _subscribers(tmp_path, env)
    assert subs[GHOST]["status"] == "bounced"
    assert (subs[AGENCY]["status"], len(sink.by_rcpt()[AGENCY])) == ("active", 4)
    rows = json.loads(cli(tmp_path, env, "deliveries", "--json").stdout)
    ghost = [r for r in rows if r["email"] == GHOST]
    assert [(r["status"], r["late_bounce_status"]) for r in ghost] == [("sent", "5.1.1")] * 3
    agency = [r for r in rows if r["email"] == AGENCY]
    assert [(r["status"], r["late_bounce_at"]) for r in agency] == [("sent", None)] * 4
    records = json.loads(cli(tmp_path, env, "bounces", "list", "--json").stdout)
    assert sorted((r["kind"], r["effect"], r["tied_by"]) for r in records) == [
        ("hard", "counted", "tag"), ("hard", "counted", "tag"), ("hard", "suspended", "tag")]
    history = json.loads(cli(tmp_path, env, "subscribers", "consent", GHOST).stdout)
    assert [(e["event"], e["source"]) for e in history["events"]][-1] == (
        "bounced", "returned-mail")
    logs = daemon.logs_text()
    assert "e2e-bounces-secret" not in logs and servers.password not in logs
    assert [line for line in logs.splitlines() if GHOST in line] == []
