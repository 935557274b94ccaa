"""Bulletins: LONGTEXT on MySQL/MariaDB, source_key, an index for the recent withdrawals.

TEXT on MySQL/MariaDB holds 64 KB, and a longer body failed the poll (error 1406 in strict
mode). There the whole change is one ALTER TABLE (the column, five MODIFYs, the index): the
table is copied once (minutes for a large archive), and the statement applies whole or not at
all. Elsewhere TEXT is unbounded: only the column and the index are added.
source_key, the portal's own spelling of an id, is NULL when the portal's id is already in our
normalised form (source_id). The index on (state, withdrawn_at) serves the recent withdrawals
every poll reads (the hot set) without reading every withdrawal ever made.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = {"title": False, "summary": True, "body_html": True, "author": True,
                 "url": False}  # name -> nullable
_TEXT_LIMIT = 65_535  # bytes in a MySQL/MariaDB TEXT value
_WITHDRAWN_INDEX = "ix_bulletins_state_withdrawn_at"


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if _is_mysql():
        op.execute(_mysql_alter("LONGTEXT", "ADD COLUMN source_key LONGTEXT NULL",
                                f"ADD INDEX {_WITHDRAWN_INDEX} (state, withdrawn_at)"))
        return
    op.add_column("bulletins", sa.Column("source_key", sa.Text()))
    op.create_index(_WITHDRAWN_INDEX, "bulletins", ["state", "withdrawn_at"])


def downgrade() -> None:
    if _is_mysql():
        _refuse_to_truncate()  # first: MySQL DDL is not transactional
        op.execute(_mysql_alter("TEXT", f"DROP INDEX {_WITHDRAWN_INDEX}",
                                "DROP COLUMN source_key"))
        return
    op.drop_index(_WITHDRAWN_INDEX, "bulletins")
    with op.batch_alter_table("bulletins") as batch:
        batch.drop_column("source_key")


def _mysql_alter(text_type: str, *changes: str) -> str:
    """One ALTER TABLE: the changes, and every text column MODIFYed to `text_type`."""
    modify = [f"MODIFY {name} {text_type} {'NULL' if nullable else 'NOT NULL'}"
              for name, nullable in _TEXT_COLUMNS.items()]
    return f"ALTER TABLE bulletins {', '.join([*changes, *modify])}"


def _refuse_to_truncate() -> None:
    """TEXT would cut longer values (or fail half-way): stop before touching anything."""
    too_long = sa.or_(*[sa.func.length(sa.column(n)) > _TEXT_LIMIT for n in _TEXT_COLUMNS])
    query: sa.Select[Any] = (sa.select(sa.column("id")).select_from(sa.table("bulletins"))
                             .where(too_long))
    ids: list[object] = list(op.get_bind().scalars(query.limit(5)))
    if ids:
        raise RuntimeError(f"cannot downgrade below 0003: bulletins {ids} hold text longer "
                           f"than {_TEXT_LIMIT} bytes (MySQL/MariaDB TEXT); they would be cut")
