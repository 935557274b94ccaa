"""The migrations create exactly the tables schema.py describes, on every database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syndicator.config.databases import create_engine
from syndicator.state.db import _alembic_config, upgrade
from syndicator.state.outbox import enqueue
from syndicator.state.schema import (
    bulletins,
    deliveries,
    digest_contents,
    digest_runs,
    metadata,
    subscribers,
)


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
        now = datetime(2026, 12, 1, tzinfo=UTC)
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


def test_0004_keeps_deliveries_as_digests_and_takes_page_mails(db_url: str) -> None:
    """A run queued before 0004 stays a digest of priority 5; page mails need no run, and
    the way back removes them (0003 has no place for them) and keeps the digests."""
    engine = create_engine(db_url, "database.url")
    t = datetime(2026, 12, 1, tzinfo=UTC)
    try:
        _migrate(engine, "0003")
        with engine.begin() as conn:  # tables 0004 leaves alone: today's definitions fit
            sub = _new(conn, subscribers, email="a@x.gov.vn", email_key="a@x.gov.vn",
                       frequency="daily", categories=[], text_size="standard",
                       status="active", consent_source="test", created_at=t, updated_at=t)
            run = _new(conn, digest_runs, frequency="daily", period_start=t, period_end=t,
                       status="sending", created_at=t)
            content = _new(conn, digest_contents, digest_id="d", run_id=run,
                           content_key="k", bulletin_ids=[], created_at=t)
            old = sa.table("deliveries", *map(sa.column, (
                "run_id", "subscriber_id", "content_id", "status", "next_attempt_at",
                "created_at", "updated_at")))
            naive = t.replace(tzinfo=None)  # a lightweight table: no UTCDateTime here
            conn.execute(old.insert().values(run_id=run, subscriber_id=sub, content_id=content,
                                             status="pending", next_attempt_at=naive,
                                             created_at=naive, updated_at=naive))
        upgrade(engine)
        with engine.begin() as conn:
            assert conn.execute(sa.select(deliveries.c.kind, deliveries.c.priority)).one() == (
                "digest", 5)
            enqueue(conn, "confirmation", sub, t, {"request": 7})
            assert conn.scalar(sa.select(sa.func.count()).select_from(deliveries)) == 2
        _migrate(engine, "0003", down=True)
        with engine.begin() as conn:
            rows = conn.execute(sa.text("SELECT run_id FROM deliveries")).all()
        assert [tuple(r) for r in rows] == [(run,)]
    finally:
        engine.dispose()


def _new(conn: sa.Connection, table: sa.Table, **values: object) -> int:
    return int(conn.execute(table.insert().values(values)).inserted_primary_key[0])


def test_0005_records_returned_mail_and_the_way_back_keeps_deliveries(db_url: str) -> None:
    """Deliveries made before 0005 stay; a kept message of 300 KB fits (MariaDB's BLOB would
    stop at 64 KB); one record per message key; the way back removes only what 0005 added."""
    from syndicator.state.schema import returned_messages

    engine = create_engine(db_url, "database.url")
    t = datetime(2026, 12, 5, tzinfo=UTC)
    try:
        _migrate(engine, "0004")
        with engine.begin() as conn:
            sub = _new(conn, subscribers, email="a@x.gov.vn", email_key="a@x.gov.vn",
                       frequency="daily", categories=[], text_size="standard",
                       status="active", consent_source="test", created_at=t, updated_at=t)
            enqueue(conn, "manage_link", sub, t)
        upgrade(engine)
        record = {"kind": "unknown", "reason": "unmatched", "effect": "kept", "size": 300_000,
                  "received_at": t, "detail": {}, "raw": b"\xff" * 300_000}
        with engine.begin() as conn:
            assert conn.execute(sa.select(deliveries.c.kind, deliveries.c.late_bounce_at)
                                ).one() == ("manage_link", None)
            conn.execute(returned_messages.insert().values(message_key="k" * 64, **record))
            assert len(conn.scalar(sa.select(returned_messages.c.raw))) == 300_000
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(returned_messages.insert().values(message_key="k" * 64, **record))
        _migrate(engine, "0004", down=True)
        inspector = sa.inspect(engine)
        assert "returned_messages" not in inspector.get_table_names()
        columns = {c["name"] for c in inspector.get_columns("deliveries")}
        assert not {c for c in columns if c.startswith("late_bounce")}
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT kind FROM deliveries")).scalar() == "manage_link"
        upgrade(engine)  # and forward again
    finally:
        engine.dispose()
