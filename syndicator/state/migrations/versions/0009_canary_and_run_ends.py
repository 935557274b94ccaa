"""Mail to a configured address, and one run per period end.

Canary copies of a run and the operator's overdue-run alert go to addresses from the
configuration (`digests.canary`, `mail.operator_address`), not to subscribers: deliveries
gain `address`, and `subscriber_id` becomes nullable (a row has one or the other). Digest
runs become unique on (frequency, period_end) as well as on the start: with the working
calendar a period's start depends on the runs already made, and two processes that disagree
on it (a rolling restart across a change of `digests.working_days_only`) must still not make
two runs that end at the same boundary.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None

_RUN_END = "ix_digest_runs_frequency_period_end"


def upgrade() -> None:
    # A unique index rather than a constraint: SQLite would rebuild digest_runs, which the
    # foreign keys of deliveries and digest_contents refer to.
    op.create_index(_RUN_END, "digest_runs", ["frequency", "period_end"], unique=True)
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.execute("ALTER TABLE deliveries MODIFY subscriber_id INTEGER NULL, "
                   "ADD COLUMN address VARCHAR(320) NULL")
        return
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("subscriber_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("address", sa.String(320)))


def downgrade() -> None:
    # 0004's outbox has no place for mail to an address: those rows go first.
    op.execute("DELETE FROM deliveries WHERE subscriber_id IS NULL")
    inspector = sa.inspect(op.get_bind())
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        # DDL is not transactional here: a second attempt must find nothing left to undo.
        if "address" in {c["name"] for c in inspector.get_columns("deliveries")}:
            op.execute("ALTER TABLE deliveries MODIFY subscriber_id INTEGER NOT NULL, "
                       "DROP COLUMN address")
    else:
        with op.batch_alter_table("deliveries") as batch:
            batch.drop_column("address")
            batch.alter_column("subscriber_id", existing_type=sa.Integer, nullable=False)
    if _RUN_END in {ix["name"] for ix in inspector.get_indexes("digest_runs")}:
        op.drop_index(_RUN_END, table_name="digest_runs")
