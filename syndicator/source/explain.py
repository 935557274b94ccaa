"""The SQL the poll sends for a query source, compiled for a dialect without a connection
(docs/recipes/sqlserver.md is generated from it: no SQL Server runs here)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from syndicator.source import query as queries
from syndicator.source.portal import FIELDS, PortalSource
from syndicator.source.shape import Shape

SWEEP = 200
_EXAMPLE = {"cursor": 120345, "keys": [120346, 120347],
            "since": datetime(2026, 12, 4, 8, 50), "until": datetime(2026, 12, 4, 9, 0, 10)}
_BLOCK = re.compile(r"<!-- BEGIN (?P<name>[A-Z_]+) -->\n```sql\n(?P<sql>.*?)```\n<!-- END \1 -->",
                    re.S)
BEGIN = "<!-- BEGIN COMPILED (scripts/gen-recipe-sql) -->"
END = "<!-- END COMPILED -->"


def poll_sql(query: str, labels: Sequence[str], dialect: Dialect,
             attachments_query: str | None = None,
             attachment_labels: Sequence[str] = queries.ATTACHMENT_LABELS
             ) -> list[tuple[str, str]]:
    """(what, SQL) for each kind of read a poll makes of this query source."""
    src = queries.derived(query, labels, "src")
    cols: dict[str, Any] = {f: src.c[f] for f in labels}
    shape = Shape(cols=cols, int_ids=True, ts_kind={}, window=("updated_at",),
                  pages_new_ids=True, text_sep={})
    ident = cols["id"]
    keys = PortalSource._select(shape, keys_only=True)
    full = PortalSource._select(shape)
    reads: list[tuple[str, Any]] = [
        ("new rows and the discovery sweep: the next ids, key columns only",
         keys.where(ident > _p("cursor")).order_by(ident).limit(SWEEP)),
        ("the hot set and the verification sweep: rows by key, key columns only",
         keys.where(ident.in_(_p("keys")))),
        ("whole rows, only where the keys differ from our copy",
         full.where(ident.in_(_p("keys")))),
        ("the time window (with source.indexed_fields: [updated_at])",
         full.where(sa.and_(cols["updated_at"] >= _p("since"),
                            cols["updated_at"] <= _p("until")))),
        ("the highest id, once when paging by id starts",
         sa.select(sa.func.max(ident))),
    ]
    if attachments_query is not None:
        att = queries.derived(attachments_query, attachment_labels, "att")
        reads.append(("files of the rows read whole",
                      sa.select(att).where(att.c.bulletin_id.in_(
                          _p("keys")))))
    return [(what, _compiled(stmt, dialect)) for what, stmt in reads]


def _p(name: str) -> sa.BindParameter[Any]:
    """An example value where the poll binds its own."""
    value = _EXAMPLE[name]
    kind = sa.DateTime() if isinstance(value, datetime) else sa.Integer()
    return sa.bindparam(name, value, type_=kind, expanding=isinstance(value, list))


def _compiled(stmt: Any, dialect: Dialect) -> str:
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return "\n".join(line.rstrip() for line in sql.splitlines())


def _labels(sql: str, names: Sequence[str]) -> list[str]:
    """Our names that the query labels (`AS title`), in our order."""
    return [n for n in names if re.search(rf"\bAS\s+{n}\b", sql, re.I)]


def render_recipe(markdown: str, dialect: Dialect) -> str:
    """The recipe page with its COMPILED section regenerated from its QUERY and
    ATTACHMENTS_QUERY blocks."""
    blocks = {m["name"]: m["sql"].strip() for m in _BLOCK.finditer(markdown)}
    query, files = blocks["QUERY"], blocks.get("ATTACHMENTS_QUERY")
    labels = _labels(query, FIELDS)
    file_labels = _labels(files, queries.ATTACHMENT_LABELS) if files else []
    out = [BEGIN, ""]
    for what, sql in poll_sql(query, labels, dialect, files, file_labels):
        out += [f"{what}:", "", "```sql", sql.strip(), "```", ""]
    out.append(END)
    head, _, rest = markdown.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + "\n".join(out) + tail
