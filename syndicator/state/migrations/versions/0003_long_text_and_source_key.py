"""Bulletins: LONGTEXT on MySQL/MariaDB, source_key, an index for the recent withdrawals.

TEXT on MySQL/MariaDB holds 64 KB, and a longer body failed the poll (error 1406 in strict
mode). The ALTER copies the table there (minutes for a large archive); elsewhere a no-op.
source_key, the portal's own spelling of an id, is NULL when the portal's id is already in our
normalised form (source_id). The index on (state, withdrawn_at) serves the recent withdrawals
every poll reads (the hot set) without reading every withdrawal ever made.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = {"title": False, "summary": True, "body_html": True, "author": True,
                 "url": False}  # name -> nullable
_TEXT_LIMIT = 65_535  # bytes in a MySQL/MariaDB TEXT value
_LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
_WITHDRAWN_INDEX = "ix_bulletins_state_withdrawn_at"


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    op.add_column("bulletins", sa.Column("source_key", _LONG_TEXT))
    op.create_index(_WITHDRAWN_INDEX, "bulletins", ["state", "withdrawn_at"])
    if not _is_mysql():
        return
    for name, nullable in _TEXT_COLUMNS.items():
        op.alter_column("bulletins", name, type_=mysql.LONGTEXT(), existing_type=sa.Text(),
                        existing_nullable=nullable)


def downgrade() -> None:
    if _is_mysql():
        _refuse_to_truncate()  # first: MySQL DDL is not transactional
    op.drop_index(_WITHDRAWN_INDEX, "bulletins")
    with op.batch_alter_table("bulletins") as batch:
        batch.drop_column("source_key")
    if not _is_mysql():
        return
    for name, nullable in _TEXT_COLUMNS.items():
        op.alter_column("bulletins", name, type_=sa.Text(), existing_type=mysql.LONGTEXT(),
                        existing_nullable=nullable)


def _refuse_to_truncate() -> None:
    """TEXT would cut longer values (or fail half-way): stop before touching anything."""
    too_long = sa.or_(*[sa.func.length(sa.column(n)) > _TEXT_LIMIT for n in _TEXT_COLUMNS])
    ids = op.get_bind().scalars(sa.select(sa.column("id")).select_from(sa.table("bulletins"))
                                .where(too_long).limit(5)).all()
    if ids:
        raise RuntimeError(f"cannot downgrade below 0003: bulletins {ids} hold text longer "
                           f"than {_TEXT_LIMIT} bytes (MySQL/MariaDB TEXT); they would be cut")
