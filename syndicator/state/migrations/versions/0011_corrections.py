"""Corrections and withdrawals: versions of bulletins, and who was told about which.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from syndicator.state.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "bulletin_versions",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("bulletin_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("title", LongText, nullable=False),
        sa.Column("lead", LongText, nullable=False),
        sa.Column("text", LongText, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("planned_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_bulletin_versions"),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletins.id"],
                                name="fk_bulletin_versions_bulletin_id_bulletins"),
        sa.UniqueConstraint("bulletin_id", "version",
                            name="uq_bulletin_versions_bulletin_id_version"),
    )
    op.create_index("ix_bulletin_versions_created_at", "bulletin_versions", ["created_at"])
    op.create_table(
        "correction_notices",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column("bulletin_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("from_version", sa.Integer, nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("delivery_id", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_correction_notices"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name="fk_correction_notices_subscriber_id_subscribers"),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletins.id"],
                                name="fk_correction_notices_bulletin_id_bulletins"),
        sa.UniqueConstraint("subscriber_id", "bulletin_id", "version",
                            name="uq_correction_notices_subscriber_id_bulletin_id_version"),
    )
    op.create_index("ix_correction_notices_bulletin_id", "correction_notices", ["bulletin_id"])
    op.create_index("ix_correction_notices_delivery_id", "correction_notices", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("correction_notices")
    op.drop_table("bulletin_versions")
