"""Spent form tokens (a form's POST works once, across restarts and replicas), and an index
for the hourly ceiling on confirmation and manage-link mails.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from syndicator.state.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spent_form_tokens",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_spent_form_tokens"),
    )
    op.create_index("ix_spent_form_tokens_expires_at", "spent_form_tokens", ["expires_at"])
    op.create_index("ix_consent_events_event_at", "consent_events", ["event", "at"])


def downgrade() -> None:
    op.drop_index("ix_consent_events_event_at", "consent_events")
    op.drop_index("ix_spent_form_tokens_expires_at", "spent_form_tokens")
    op.drop_table("spent_form_tokens")
