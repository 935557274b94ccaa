"""The subscriber roster: filtered reads in address order, paged by key (never by OFFSET)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from syndicator.models.subscriber import Subscriber
from syndicator.state.schema import subscribers
from syndicator.state.subscribers import _from_row


@dataclass(frozen=True)
class Filters:
    """What the console's search form asks; empty fields do not filter."""

    text: str = ""
    status: str = ""
    frequency: str = ""
    category: str = ""  # subscribers who receive it: it is among theirs, or they chose none


def page(conn: sa.Connection, filters: Filters, limit: int, *, after: str | None = None,
         before: str | None = None) -> list[Subscriber]:
    """Up to `limit` subscribers by address, after (or before) an email key."""
    query = sa.select(subscribers).where(*_conditions(conn, filters)).limit(limit)
    if before is not None:
        rows = conn.execute(query.where(subscribers.c.email_key < before)
                            .order_by(subscribers.c.email_key.desc())).all()
        return [_from_row(r) for r in reversed(rows)]
    if after is not None:
        query = query.where(subscribers.c.email_key > after)
    return [_from_row(r) for r in conn.execute(query.order_by(subscribers.c.email_key))]


def count(conn: sa.Connection, filters: Filters, cap: int) -> int:
    """How many match, counting no further than `cap` + 1 (a count of every row costs a scan
    of the whole table; past a page or two nobody reads the exact figure)."""
    matching = sa.select(subscribers.c.id).where(*_conditions(conn, filters)).limit(cap + 1)
    query = sa.select(sa.func.count()).select_from(matching.subquery())
    return int(conn.scalar(query) or 0)


def _conditions(conn: sa.Connection, f: Filters) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    if f.status:
        out.append(subscribers.c.status == f.status)
    if f.frequency:
        out.append(subscribers.c.frequency == f.frequency)
    if f.text.strip():
        text = f.text.strip()
        out.append(sa.or_(subscribers.c.email_key.contains(text.casefold(), autoescape=True),
                          sa.func.lower(subscribers.c.name).contains(text.lower(),
                                                                     autoescape=True)))
    if f.category:
        out.append(sa.or_(_no_categories(conn.dialect.name),
                          _has_category(conn.dialect.name, f.category)))
    return out


def _no_categories(dialect: str) -> sa.ColumnElement[bool]:
    length = sa.func.json_length if dialect in ("mysql", "mariadb") else sa.func.json_array_length
    return length(subscribers.c.categories) == 0


def _has_category(dialect: str, name: str) -> sa.ColumnElement[bool]:
    """The JSON list holds `name` (each database spells containment its own way)."""
    if dialect == "postgresql":
        return sa.cast(subscribers.c.categories, postgresql.JSONB).contains([name])
    if dialect in ("mysql", "mariadb"):
        return sa.func.json_contains(subscribers.c.categories, json.dumps(name)) == 1
    each = sa.func.json_each(subscribers.c.categories).table_valued("value")
    return sa.select(sa.literal(1)).select_from(each).where(each.c.value == name).exists()
