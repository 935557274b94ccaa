"""What comes back: a record of each returned message, and late bounces on deliveries.

`returned_messages` holds one row per message that came back (a DSN, a complaint, a mailto
unsubscribe, an auto-reply, a reply), unique on its key, so that reading the same message
twice has one effect. `deliveries` gains the late bounce a relay reported by mail after it
accepted the message, and an index on `message_id` (a returned message names it).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from syndicator.state.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_LATE = ("late_bounce_at", "late_bounce_status", "late_bounce_code", "late_bounce_detail")


def upgrade() -> None:
    op.create_table(
        "returned_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("effect", sa.String(32), nullable=False),
        sa.Column("tied_by", sa.String(16)),
        sa.Column("delivery_id", sa.Integer),
        sa.Column("subscriber_id", sa.Integer),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("raw", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")),
        sa.Column("forward_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("forward_claimed_at", UTCDateTime),
        sa.Column("forwarded_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_returned_messages"),
        sa.UniqueConstraint("message_key", name="uq_returned_messages_message_key"),
    )
    for column in ("delivery_id", "subscriber_id", "received_at"):
        op.create_index(f"ix_returned_messages_{column}", "returned_messages", [column])
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.execute("ALTER TABLE deliveries ADD COLUMN late_bounce_at DATETIME(6) NULL, "
                   "ADD COLUMN late_bounce_status VARCHAR(16) NULL, "
                   "ADD COLUMN late_bounce_code INTEGER NULL, "
                   "ADD COLUMN late_bounce_detail VARCHAR(500) NULL, "
                   "ADD INDEX ix_deliveries_message_id (message_id)")
        return
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("late_bounce_at", UTCDateTime))
        batch.add_column(sa.Column("late_bounce_status", sa.String(16)))
        batch.add_column(sa.Column("late_bounce_code", sa.Integer))
        batch.add_column(sa.Column("late_bounce_detail", sa.String(500)))
        batch.create_index("ix_deliveries_message_id", ["message_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        # MySQL DDL is not transactional: a downgrade run again after a later step failed
        # must find nothing left to undo.
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("deliveries")}
        if "late_bounce_at" in columns:
            op.execute("ALTER TABLE deliveries DROP INDEX ix_deliveries_message_id, "
                       + ", ".join(f"DROP COLUMN {c}" for c in _LATE))
    else:
        with op.batch_alter_table("deliveries") as batch:
            batch.drop_index("ix_deliveries_message_id")
            for column in reversed(_LATE):
                batch.drop_column(column)
    if sa.inspect(op.get_bind()).has_table("returned_messages"):
        op.drop_table("returned_messages")
