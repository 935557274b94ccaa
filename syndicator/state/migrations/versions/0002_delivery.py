"""Delivery: digest runs, digest contents (web copies), the deliveries outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from syndicator.state.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("period_start", UTCDateTime, nullable=False),
        sa.Column("period_end", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_digest_runs"),
        sa.UniqueConstraint("frequency", "period_start",
                            name="uq_digest_runs_frequency_period_start"),
    )
    op.create_table(
        "digest_contents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("content_key", sa.String(64), nullable=False),
        sa.Column("bulletin_ids", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_digest_contents"),
        sa.ForeignKeyConstraint(["run_id"], ["digest_runs.id"],
                                name="fk_digest_contents_run_id_digest_runs"),
        sa.UniqueConstraint("digest_id", name="uq_digest_contents_digest_id"),
        sa.UniqueConstraint("run_id", "content_key",
                            name="uq_digest_contents_run_id_content_key"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column("content_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("lease_owner", sa.String(120)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("message_id", sa.String(255)),
        sa.Column("last_code", sa.Integer),
        sa.Column("last_reply", sa.String(500)),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(["run_id"], ["digest_runs.id"],
                                name="fk_deliveries_run_id_digest_runs"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name="fk_deliveries_subscriber_id_subscribers"),
        sa.ForeignKeyConstraint(["content_id"], ["digest_contents.id"],
                                name="fk_deliveries_content_id_digest_contents"),
        sa.UniqueConstraint("run_id", "subscriber_id",
                            name="uq_deliveries_run_id_subscriber_id"),
    )
    op.create_index("ix_deliveries_subscriber_id", "deliveries", ["subscriber_id"])
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_run_id_status", "deliveries", ["run_id", "status"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("digest_contents")
    op.drop_table("digest_runs")
