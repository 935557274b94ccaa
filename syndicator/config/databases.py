"""SQLAlchemy engines from the contract's plain URLs: we pick the drivers, never the operator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from syndicator.errors import ConfigError

# Pure-Python or wheel-only drivers, so that no operator installs anything.
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "mssql": "mssql+pymssql",
    "sqlite": "sqlite",
}


# Our own tables are migrated and tested on these; SQL Server is read as a source only.
_STATE_BACKENDS = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


def check_url(raw: str, *, state: bool = False) -> URL:
    """Parse a configured URL; ValueError says what is wrong, never with the password."""
    try:
        url = make_url(raw)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        raise ValueError("not a database URL (e.g. sqlite:///var/x.db)") from None
    backend = url.drivername.split("+", 1)[0]
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database {backend!r} "
                         "(use sqlite, postgresql, mysql, mariadb or mssql)")
    if state and backend not in _STATE_BACKENDS:
        raise ValueError(f"{backend!r} can be read as the portal's source only; our own "
                         "state needs sqlite, postgresql, mysql or mariadb")
    return url


def parse_url(raw: str, key: str) -> URL:
    """Parse a configured URL and name its driver; errors name the config key."""
    try:
        url = check_url(raw)
    except ValueError as exc:
        raise ConfigError(f"config error: {key}: {exc}") from None
    if "+" not in url.drivername:
        url = url.set(drivername=_DRIVERS[url.drivername])
    if url.get_backend_name() in ("mysql", "mariadb") and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def create_engine(raw: str, key: str, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for a configured URL; SQLite files get their directory, WAL and a busy timeout."""
    url = parse_url(raw, key)
    # Error messages (and so logs) never carry statement parameters: addresses, tokens.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, read_only, **kwargs)
    engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
    if read_only:
        _make_read_only(engine)
    return engine


def _sqlite_engine(url: URL, read_only: bool, **kwargs: Any) -> Engine:
    db = url.database or ""
    in_memory = db in ("", ":memory:") or db.startswith("file::memory:")
    if not in_memory and not read_only:
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    if read_only and not in_memory:
        url = url.set(database=f"file:{Path(db).absolute()}?mode=ro", query={"uri": "true"})
    engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if not read_only and not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    return engine


def _make_read_only(engine: Engine) -> None:
    """Belt and braces: the session itself refuses writes to the portal."""
    backend = engine.dialect.name
    statement = {
        "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "mysql": "SET SESSION TRANSACTION READ ONLY",
        "mariadb": "SET SESSION TRANSACTION READ ONLY",
    }.get(backend)
    if statement is None:
        return

    @sa.event.listens_for(engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(statement)
        cur.close()
        if backend == "postgresql":
            dbapi_conn.commit()


# Query parameters that carry credentials (`?password=`, libpq's `sslpassword`, ...).
_SECRET_QUERY = re.compile(r"pass|pwd|secret|token|key", re.IGNORECASE)
HIDDEN = "***"


def redacted(raw: str | URL) -> str:
    """The URL with its password hidden, in the user part and in the query, for messages
    and logs."""
    try:
        url = make_url(raw)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        return "<unparseable URL>"
    hidden = {k: HIDDEN for k in url.query if _SECRET_QUERY.search(k)}
    shown = url.update_query_dict(hidden).render_as_string(hide_password=True)
    return shown.replace("%2A%2A%2A", HIDDEN)


def url_secrets(raw: str) -> list[str]:
    """The credentials a URL holds (password and secret query values), to scrub from text."""
    try:
        url = make_url(raw)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        return []
    found = [url.password] if url.password else []
    for key, value in url.query.items():
        if _SECRET_QUERY.search(key):
            found += [value] if isinstance(value, str) else list(value)
    return [str(f) for f in found if f]
