"""One outbox for every mail: deliveries gain a kind, a payload and a priority.

Confirmation and manage-link mails (and later notices) become deliveries like digests, with
no run and no digest content: run_id and content_id become nullable. `kind` says which mail
a row is, `payload` carries what composing it needs (the request a confirmation link
confirms), and `priority` orders claims (0 first: a person waits for these mails).
Existing rows are digests of priority 5.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.execute("ALTER TABLE deliveries MODIFY run_id INTEGER NULL, "
                   "MODIFY content_id INTEGER NULL, "
                   "ADD COLUMN kind VARCHAR(24) NOT NULL DEFAULT 'digest', "
                   "ADD COLUMN payload JSON NULL, "
                   "ADD COLUMN priority SMALLINT NOT NULL DEFAULT 5")
        return
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("run_id", existing_type=sa.Integer, nullable=True)
        batch.alter_column("content_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("kind", sa.String(24), nullable=False,
                                   server_default="digest"))
        batch.add_column(sa.Column("payload", sa.JSON))
        batch.add_column(sa.Column("priority", sa.SmallInteger, nullable=False,
                                   server_default="5"))


def downgrade() -> None:
    # Rows without a run (page mails) cannot exist in 0003's table: they go first.
    op.execute("DELETE FROM deliveries WHERE run_id IS NULL OR content_id IS NULL")
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        # MySQL DDL is not transactional: when an older downgrade refuses after this one ran
        # (0003 refuses to cut long texts), the version row still says 0004 while the table
        # is 0003's. Running this again must then find nothing left to undo.
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("deliveries")}
        if "kind" in columns:
            op.execute("ALTER TABLE deliveries MODIFY run_id INTEGER NOT NULL, "
                       "MODIFY content_id INTEGER NOT NULL, DROP COLUMN kind, "
                       "DROP COLUMN payload, DROP COLUMN priority")
        return
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("priority")
        batch.drop_column("payload")
        batch.drop_column("kind")
        batch.alter_column("content_id", existing_type=sa.Integer, nullable=False)
        batch.alter_column("run_id", existing_type=sa.Integer, nullable=False)
