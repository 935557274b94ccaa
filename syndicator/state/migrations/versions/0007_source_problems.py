"""Portal rows skipped now: one row per unreadable or uncleanable portal row.

Revision ID: 0007
Revises: 0009
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from syndicator.state.types import UTCDateTime

revision = "0007"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_problems",
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("problem", sa.String(500), nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("ref", name="pk_source_problems"),
    )
    op.create_index("ix_source_problems_last_seen_at", "source_problems", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_source_problems_last_seen_at", "source_problems")
    op.drop_table("source_problems")
