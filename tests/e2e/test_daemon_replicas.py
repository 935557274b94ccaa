"""Two replicas on one PostgreSQL state database: both ready, both feeds current, mail once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _scratch_database
from tests.e2e.daemon import Daemon, clean_env, cli, free_port
from tests.e2e.test_daemon_mail import IMMEDIATE, TITLE, TimedHandler, _feed_titles, _publish
from tests.integration.smtp_server import SmtpServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_state_url() -> Iterator[str]:
    yield from _scratch_database("postgresql")


def test_two_replicas_cooperate(tmp_path: Path, pg_state_url: str) -> None:
    handler = TimedHandler()
    with SmtpServer(handler) as smtp:
        shared = dict(database__url=pg_state_url, poll__interval_seconds="2",
                      source__url=f"sqlite:///{tmp_path / 'var' / 'portal.db'}",
                      mail__transport="smtp", smtp__host="127.0.0.1",
                      smtp__port=str(smtp.port), smtp__security="none")
        assert cli(tmp_path, clean_env(**shared), "demo").returncode == 0
        replicas = []
        for name in ("a", "b"):
            workdir = tmp_path / name
            workdir.mkdir()
            port = free_port()
            replicas.append(Daemon(workdir, clean_env(http__port=str(port), **shared),
                                   port).start())
        try:
            for r in replicas:
                r.wait_ready()
            replicas[0].wait_for("the demo's immediate message",
                                 lambda: bool(handler.texts_to(IMMEDIATE)))
            _publish(tmp_path, 9003)
            for r in replicas:  # each replica serves its own files, rebuilt from the database
                r.wait_for("the new bulletin in this replica's feed",
                           lambda r=r: TITLE in _feed_titles(r))
            replicas[0].wait_for("the new bulletin by mail", lambda: any(
                TITLE in text for _, text in handler.texts_to(IMMEDIATE)))
            for r in replicas:
                assert r.get("/healthz/ready").status_code == 200
                assert r.stop()[0] == 0
        finally:
            for r in replicas:
                r.kill()
    texts = [text for _, text in handler.texts_to(IMMEDIATE)]
    assert [TITLE in t for t in texts].count(True) == 1
    ids = handler.message_ids()
    assert len(ids) == len(set(ids)), "a message was sent twice"
