"""Opening and migrating the state database."""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from syndicator.config.databases import create_engine, redacted
from syndicator.config.settings import Settings
from syndicator.errors import StateError
from syndicator.state.schema import state_values


def state_engine(settings: Settings) -> Engine:
    """The engine for database.url (our own tables)."""
    return create_engine(settings.database.url.get_secret_value(), "database.url")


def _alembic_config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("syndicator.state") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> str | None:
    """Create or migrate our tables to the newest revision; returns that revision."""
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
            return MigrationContext.configure(conn).get_current_revision()
    except sa.exc.OperationalError as exc:
        raise StateError(_unreachable(engine, exc)) from None


def check_current(engine: Engine) -> None:
    """Fail clearly when the tables are missing or older than this program."""
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    except sa.exc.OperationalError as exc:
        raise StateError(_unreachable(engine, exc)) from None
    if current != head:
        raise StateError(f"the state database is at revision {current or 'none'}, this program "
                         f"needs {head}: run `syndicator db upgrade`")


def _unreachable(engine: Engine, exc: Exception) -> str:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if storage_full(exc):
        return (f"state database {redacted(engine.url)}: its disk is full ({reason}); nothing "
                "was lost: nothing was written. Free some space and run it again")
    return f"state database {redacted(engine.url)} is unreachable: {reason}"


def probe(engine: Engine) -> None:
    """Read a row of our own tables (SELECT 1 alone would not touch a SQLite file)."""
    with engine.connect() as conn:
        conn.execute(sa.select(state_values.c.name).limit(1)).all()


# What each backend says when the file system under it is full (SQLite SQLITE_FULL, its
# I/O error while growing the WAL, PostgreSQL SQLSTATE 53100, MariaDB errors 1021 and 1114,
# errno 28 anywhere).
_FULL = ("database or disk is full", "disk i/o error", "no space left on device", "disk full",
         "could not extend file", "the table is full", "errcode: 28")


def storage_full(exc: BaseException) -> bool:
    """The database refused a write because its disk is full (the transaction rolled back)."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return isinstance(exc, sa.exc.DBAPIError) and any(sign in text for sign in _FULL)
