"""Database URLs: the operator writes plain URLs, we pick installed drivers."""

from pathlib import Path

import pytest

from syndicator.config.databases import create_engine, parse_url, redacted
from syndicator.errors import ConfigError


@pytest.mark.parametrize("raw,driver", [
    ("postgresql://u:p@db/x", "postgresql+psycopg"),
    ("postgres://u:p@db/x", "postgresql+psycopg"),
    ("mysql://u:p@db/x", "mysql+pymysql"),
    ("mariadb://u:p@db/x", "mariadb+pymysql"),
    ("mssql://u:p@db/x", "mssql+pymssql"),
    ("sqlite:///var/x.db", "sqlite"),
    ("postgresql+psycopg2://u:p@db/x", "postgresql+psycopg2"),  # an explicit choice is kept
])
def test_drivers_are_picked(raw: str, driver: str) -> None:
    assert parse_url(raw, "source.url").drivername == driver


@pytest.mark.parametrize("raw", ["postgresql://u:p@db/x", "mysql://u:p@db/x",
                                 "mariadb://u:p@db/x", "mssql://u:p@db/x"])
def test_the_chosen_driver_is_installed(raw: str) -> None:
    engine = create_engine(raw, "source.url")  # loads the DBAPI module, connects to nothing
    assert engine.dialect.dbapi is not None


def test_mysql_gets_utf8mb4() -> None:
    assert parse_url("mysql://u@db/x", "k").query["charset"] == "utf8mb4"


@pytest.mark.parametrize("raw,message", [
    ("not a url", "database.url: not a database URL"),
    ("oracle://u@db/x", "database.url: unsupported database 'oracle'"),
])
def test_bad_urls_name_the_key(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_url(raw, "database.url")


def test_redacted_hides_the_password() -> None:
    assert "s3cret" not in redacted("postgresql://u:s3cret@db/x")


def test_database_errors_never_show_statement_parameters(tmp_path: Path) -> None:
    import sqlalchemy as sa

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", "database.url")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (email TEXT UNIQUE)"))
        conn.execute(sa.text("INSERT INTO t VALUES (:e)"), {"e": "secret.person@so.gov.vn"})
    with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (:e)"), {"e": "secret.person@so.gov.vn"})
    assert "secret.person" not in str(info.value)
