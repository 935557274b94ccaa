"""The daemon's mailbox round against real Postfix and Dovecot: a DSN Postfix wrote is read over
TLS, recorded, then moved; a reader killed (-9) between recording and moving leaves it for the
next round, which moves it without a second effect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.runtime import returns
from syndicator.state.db import state_engine, upgrade
from syndicator.state.schema import deliveries, returned_messages, subscribers
from tests.integration.delivery_data import add_subscriber
from tests.integration.test_bounces_mailservers import _count
from tests.support.mailservers import MailServers, free_port, running
from tests.support.returned_mail import keep_secret, send

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def servers() -> Iterator[MailServers]:
    with running(remote=free_port()) as s:
        yield s


def _config(servers: MailServers, db: Path) -> dict[str, Any]:
    return {"database": {"url": f"sqlite:///{db}"},
            "bounces": {"return_path": "bounces@bounce.test",
                        "imap": {"url": servers.imap_url(), "trusted_ca": str(servers.ca_file),
                                 "timeout": 10}}}


def _sent_to(engine: sa.Engine, email: str) -> int:
    sid = add_subscriber(engine, email)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        return int(conn.execute(deliveries.insert().values(
            kind="manage_link", subscriber_id=sid, status="sent", attempts=1, last_code=250,
            next_attempt_at=now, created_at=now, updated_at=now, sent_at=now,
        )).inserted_primary_key[0])


def _state(engine: sa.Engine, delivery_id: int) -> tuple[int, int, bool]:
    """(records, the subscriber's count, whether the delivery has its late bounce)"""
    with engine.connect() as conn:
        count = conn.scalar(sa.select(sa.func.count()).select_from(returned_messages))
        row = conn.execute(sa.select(subscribers.c.hard_bounces, deliveries.c.late_bounce_at)
                           .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
                           .where(deliveries.c.id == delivery_id)).one()
    return int(count or 0), row.hard_bounces, row.late_bounce_at is not None


def _empty(servers: MailServers, settings: Settings, engine: sa.Engine) -> None:
    returns.read_mailbox(settings, engine)  # what earlier tests left


def test_a_postfix_dsn_is_read_over_tls_and_counted(servers: MailServers,
                                                    tmp_path: Path) -> None:
    settings = Settings(**_config(servers, tmp_path / "state.db"))
    engine = state_engine(settings)
    upgrade(engine)
    keep_secret(engine)  # the key the corpus's tags were signed with
    _empty(servers, settings, engine)
    delivery = _sent_to(engine, "ghost@relay.test")
    before = len(list((servers.maildir / "new").iterdir()))
    send(servers, delivery, "ghost@relay.test")
    servers.wait_for_mail(before + 1)
    report = returns.returns_round(settings, engine)
    assert report.mailbox is not None and report.mailbox.handled == 1
    assert _state(engine, delivery) == (1, 1, True)
    assert _count(servers, "INBOX") == 0


def test_a_reader_killed_between_recording_and_moving_has_one_effect(
        servers: MailServers, tmp_path: Path) -> None:
    config = _config(servers, tmp_path / "state.db")
    settings = Settings(**config)
    engine = state_engine(settings)
    upgrade(engine)
    keep_secret(engine)  # the key the corpus's tags were signed with
    _empty(servers, settings, engine)
    delivery = _sent_to(engine, "ghost@relay.test")
    before = len(list((servers.maildir / "new").iterdir()))
    send(servers, delivery, "ghost@relay.test")
    servers.wait_for_mail(before + 1)
    marker = tmp_path / "recorded"
    reader = subprocess.Popen([sys.executable, "-m", "tests.integration.bounce_reader_main",
                               json.dumps(config), str(marker)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert reader.poll() is None, "the reader ended before recording"
            assert time.monotonic() < deadline, "the reader recorded nothing in 60 s"
            time.sleep(0.1)
    finally:
        os.kill(reader.pid, signal.SIGKILL)
        reader.wait(10)
    assert _state(engine, delivery) == (1, 1, True)  # recorded and applied ...
    assert _count(servers, "INBOX") == 1  # ... but not moved
    again = returns.read_mailbox(settings, engine)  # the dead reader's lease is taken over
    assert again is not None and again.handled == 1
    assert _state(engine, delivery) == (1, 1, True)  # one effect
    assert _count(servers, "INBOX") == 0


def test_check_logs_in_and_counts_what_waits_without_moving_it(servers: MailServers,
                                                               tmp_path: Path) -> None:
    from syndicator.runtime.preflight import _check_returns

    config = _config(servers, tmp_path / "state.db")
    settings = Settings(**config)
    engine = state_engine(settings)
    upgrade(engine)
    keep_secret(engine)  # the key the corpus's tags were signed with
    _empty(servers, settings, engine)
    before = len(list((servers.maildir / "new").iterdir()))
    send(servers, 4800, "ghost4800@relay.test")
    servers.wait_for_mail(before + 1)
    path, mailbox = _check_returns(settings)
    assert path[:2] == ("return path", True) and "bounces+TAG@bounce.test" in path[2]
    assert mailbox[:2] == ("bounce mailbox", True)
    assert "1 message(s) waiting" in mailbox[2]
    assert _count(servers, "INBOX") == 1  # nothing moved
    config["bounces"]["imap"]["url"] = servers.imap_url().replace(servers.password, "wrong-pw")
    failed = _check_returns(Settings(**config))[1]
    assert failed[:2] == ("bounce mailbox", False) and "wrong-pw" not in failed[2]
