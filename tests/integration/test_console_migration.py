"""Migration 0006 (the console's tables and list indexes) goes down and up again on every
database, keeping what the earlier tables hold."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from syndicator.config.databases import create_engine
from syndicator.state.db import _alembic_config, upgrade
from tests.integration.delivery_data import add_subscriber

CONSOLE_TABLES = {"operator_accounts", "operator_sessions", "login_attempts", "audit_log"}


def _to(engine: sa.Engine, revision: str, down: bool = False) -> None:
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(_alembic_config(conn), revision)


def test_0006_down_and_up_again(db_url: str) -> None:
    engine = create_engine(db_url, "database.url")
    try:
        upgrade(engine)
        add_subscriber(engine, "giu-lai@ubnd.example")
        _to(engine, "0004", down=True)
        inspector = sa.inspect(engine)
        assert not CONSOLE_TABLES & set(inspector.get_table_names())
        indexes = {i["name"] for i in inspector.get_indexes("deliveries")}
        assert "ix_deliveries_content_id" not in indexes
        upgrade(engine)
        assert CONSOLE_TABLES <= set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT email FROM subscribers")) == "giu-lai@ubnd.example"
    finally:
        engine.dispose()
