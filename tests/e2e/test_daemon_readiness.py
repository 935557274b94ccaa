"""Readiness follows the state database: 503 with a reason while it is gone, 200 when back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicator.config.databases import create_engine
from tests.conftest import _scratch_database, server_or_skip
from tests.e2e.daemon import Daemon, clean_env, cli, free_port

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_state_url() -> Iterator[str]:
    yield from _scratch_database("postgresql")


def _allow_connections(db_name: str, allow: bool) -> None:
    admin = create_engine(server_or_skip("postgresql"), "admin", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"ALTER DATABASE {db_name} ALLOW_CONNECTIONS {str(allow).lower()}"))
        if not allow:  # and cut the daemon's pooled connections, as a server restart would
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :db AND pid <> pg_backend_pid()"),
                         {"db": db_name})
    admin.dispose()


def test_readiness_false_while_state_database_is_gone(tmp_path: Path, pg_state_url: str) -> None:
    db_name = sa.make_url(pg_state_url).database
    assert db_name
    port = free_port()
    env = clean_env(database__url=pg_state_url, http__port=str(port),
                    poll__interval_seconds="2")
    assert cli(tmp_path, env, "demo").returncode == 0
    daemon = Daemon(tmp_path, env, port).start()
    try:
        daemon.wait_ready()
        _allow_connections(db_name, False)
        try:
            daemon.wait_for("503 naming the state database", lambda: (
                (r := daemon.get("/healthz/ready")).status_code == 503
                and any("state database" in reason for reason in r.json()["reasons"])))
            assert daemon.get("/healthz/live").status_code == 200  # alive, just not ready
        finally:
            _allow_connections(db_name, True)
        daemon.wait_ready()
        code, seconds = daemon.stop()
        assert code == 0 and seconds < 10
    finally:
        daemon.kill()
