"""Several categories, official-document details and attachments per bulletin.

`categories` holds every (name, slug) of a bulletin as JSON ([["Tin tức", "tin-tuc"], ...]);
`category`/`category_slug` keep the first, so single-category readers stay as they were.
Stored bulletins get their one category in the new column. `document` and `attachments`
are JSON too (ADR 017).

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-04
"""
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

_LONG = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
_BATCH = 1000


def upgrade() -> None:
    for name in ("categories", "document", "attachments"):
        op.add_column("bulletins", sa.Column(name, _LONG))
    table = sa.table("bulletins", sa.column("id", sa.Integer),
                     sa.column("category", sa.String), sa.column("category_slug", sa.String),
                     sa.column("categories", sa.Text))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, table.c.category, table.c.category_slug)
            .where(table.c.id > last, table.c.category.is_not(None),
                   table.c.category_slug.is_not(None))
            .order_by(table.c.id).limit(_BATCH)).all()
        if not rows:
            break
        conn.execute(table.update().where(table.c.id == sa.bindparam("b_id"))
                     .values(categories=sa.bindparam("b_categories")),
                     [{"b_id": r.id, "b_categories": json.dumps(
                         [[r.category, r.category_slug]], ensure_ascii=False)}
                      for r in rows])
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("bulletins") as batch:
        for name in ("attachments", "document", "categories"):
            batch.drop_column(name)
