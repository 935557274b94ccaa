"""The migrations create exactly the tables schema.py describes, on every database."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syndicator.state.schema import metadata


def test_migrations_match_metadata(state: sa.Engine) -> None:
    with state.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == []


def test_delivery_tables_exist(state: sa.Engine) -> None:
    names = set(sa.inspect(state).get_table_names())
    assert {"digest_runs", "digest_contents", "deliveries"} <= names
