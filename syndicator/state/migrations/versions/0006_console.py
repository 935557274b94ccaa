"""The operator's console: accounts, sessions, sign-in attempts, the audit log; indexes for its
lists (subscribers by status in address order, deliveries by digest content).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from syndicator.state.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("last_sign_in_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_operator_accounts"),
        sa.UniqueConstraint("email_key", name="uq_operator_accounts_email_key"),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("client", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operator_sessions"),
        sa.ForeignKeyConstraint(["account_id"], ["operator_accounts.id"],
                                name="fk_operator_sessions_account_id_operator_accounts"),
        sa.UniqueConstraint("token_hash", name="uq_operator_sessions_token_hash"),
    )
    op.create_index("ix_operator_sessions_account_id", "operator_sessions", ["account_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("account_key", sa.String(320), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_account_key_at", "login_attempts", ["account_key", "at"])
    op.create_index("ix_login_attempts_client_at", "login_attempts", ["client", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("account_id", sa.Integer),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target_kind", sa.String(32)),
        sa.Column("target_id", sa.String(191)),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(["account_id"], ["operator_accounts.id"],
                                name="fk_audit_log_account_id_operator_accounts"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_target_kind_target_id", "audit_log",
                    ["target_kind", "target_id"])
    op.create_index("ix_subscribers_status_email_key", "subscribers", ["status", "email_key"])
    op.create_index("ix_deliveries_content_id", "deliveries", ["content_id"])


def downgrade() -> None:
    _drop_content_index()
    op.drop_index("ix_subscribers_status_email_key", table_name="subscribers")
    op.drop_table("audit_log")
    op.drop_table("login_attempts")
    op.drop_table("operator_sessions")
    op.drop_table("operator_accounts")


def _drop_content_index() -> None:
    """MariaDB lets the foreign key on content_id use the new index and then refuses to drop
    it: the key goes first, and comes back with an index of its own."""
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        op.drop_index("ix_deliveries_content_id", table_name="deliveries")
        return
    fk = "fk_deliveries_content_id_digest_contents"
    op.drop_constraint(fk, "deliveries", type_="foreignkey")
    op.drop_index("ix_deliveries_content_id", table_name="deliveries")
    op.create_foreign_key(fk, "deliveries", "digest_contents", ["content_id"], ["id"])
