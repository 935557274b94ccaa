"""The migrations create exactly the tables schema.py describes, on every database."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syndicator.dburl import create_engine
from syndicator.state.db import _alembic_config, upgrade
from syndicator.state.schema import bulletins, metadata


def test_migrations_match_metadata(state: sa.Engine) -> None:
    with state.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == []


def test_delivery_tables_exist(state: sa.Engine) -> None:
    names = set(sa.inspect(state).get_table_names())
    assert {"digest_runs", "digest_contents", "deliveries"} <= names


def _migrate(engine: sa.Engine, revision: str, down: bool = False) -> None:
    with engine.begin() as conn:
        cfg = _alembic_config(conn)
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_0003_keeps_bulletins_and_takes_long_text(db_url: str) -> None:
    engine = create_engine(db_url, "database.url")
    try:
        _migrate(engine, "0002")
        now = datetime(2026, 12, 1, tzinfo=timezone.utc)
        row = {"source_id": "7", "title": "Bản tin", "url": "https://p.example/7",
               "published_at": now, "first_seen_at": now, "changed_at": now,
               "content_hash": "0" * 64}
        with engine.begin() as conn:
            conn.execute(sa.table("bulletins", *map(sa.column, row)).insert().values(row))
        upgrade(engine)
        long_body = "Nội dung. " * 30_000  # ~330 KB
        with engine.begin() as conn:
            assert conn.execute(sa.select(bulletins.c.title, bulletins.c.source_key)).one() == (
                "Bản tin", None)
            conn.execute(bulletins.update().values(body_html=long_body))
            assert conn.scalar(sa.select(bulletins.c.body_html)) == long_body
        if engine.dialect.name == "mysql":  # TEXT would cut it: the downgrade refuses
            with pytest.raises(RuntimeError, match=r"bulletins \[1\] hold text longer"):
                _migrate(engine, "0002", down=True)
        with engine.begin() as conn:
            assert conn.scalar(sa.select(bulletins.c.body_html)) == long_body
            conn.execute(bulletins.update().values(body_html="ngắn"))
        _migrate(engine, "0002", down=True)  # short values: the way back works
        _assert_bulletins_as_in_0002(engine)
    finally:
        engine.dispose()


def _assert_bulletins_as_in_0002(engine: sa.Engine) -> None:
    inspector = sa.inspect(engine)
    columns = {c["name"]: c for c in inspector.get_columns("bulletins")}
    assert "source_key" not in columns
    assert "ix_bulletins_state_withdrawn_at" not in {
        ix["name"] for ix in inspector.get_indexes("bulletins")}
    if engine.dialect.name == "mysql":
        text = {n: (type(columns[n]["type"]).__name__, columns[n]["nullable"])
                for n in ("title", "summary", "body_html", "author", "url")}
        assert text == {"title": ("TEXT", False), "summary": ("TEXT", True),
                        "body_html": ("TEXT", True), "author": ("TEXT", True),
                        "url": ("TEXT", False)}
