"""Shared fixtures: state and portal databases on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicator.config.databases import create_engine

REPO = Path(__file__).resolve().parent.parent
REQUIRE = os.environ.get("SYNDICATOR_TEST_REQUIRE_SERVICES") == "1"
SERVERS = {
    "postgresql": os.environ.get("SYNDICATOR_TEST_POSTGRES_URL",
                                 "postgresql://postgres@127.0.0.1:5432/postgres"),
    "mariadb": os.environ.get("SYNDICATOR_TEST_MARIADB_URL",
                              "mysql://root@127.0.0.1:3306/test"),
}
_reachable: dict[str, str | None] = {}


def server_or_skip(kind: str) -> str:
    """The admin URL of a server, or a skip (a failure in CI, where servers are required)."""
    if kind not in _reachable:
        try:
            engine = create_engine(SERVERS[kind], kind)
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _reachable[kind] = None
        except Exception as exc:  # noqa: BLE001 - any driver error means "not here"
            _reachable[kind] = str(exc).splitlines()[0]
    reason = _reachable[kind]
    if reason is not None:
        message = f"{kind} server not reachable at {SERVERS[kind]} ({reason})"
        if REQUIRE:
            pytest.fail(message + "; SYNDICATOR_TEST_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip(message)
    return SERVERS[kind]


def _scratch_database(kind: str) -> Iterator[str]:
    """A new empty database on a server, dropped afterwards; yields its URL."""
    admin_url = server_or_skip(kind)
    name = f"syn_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, kind, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL of each kind, one test each."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        yield from _scratch_database(request.param)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


def _migrated(url: str) -> Iterator[sa.Engine]:
    from syndicator.state.db import upgrade

    engine = create_engine(url, "database.url")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def state(db_url: str) -> Iterator[sa.Engine]:
    """A migrated state database of each kind."""
    yield from _migrated(db_url)


@pytest.fixture(params=["postgresql", "mariadb"])
def server_state(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """A migrated state database on each server (what several senders or replicas need)."""
    for url in _scratch_database(request.param):
        yield from _migrated(url)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(state URL, portal URL): two empty databases of the same kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}", f"sqlite:///{tmp_path / 'portal.db'}"
        return
    state_gen = _scratch_database(request.param)
    portal_gen = _scratch_database(request.param)
    try:
        yield next(state_gen), next(portal_gen)
    finally:
        for gen in (state_gen, portal_gen):
            gen.close()
