"""Reads and writes our copy of the bulletins."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syndicator.models.bulletin import Bulletin, CleanBulletin, Known
from syndicator.state import content_json
from syndicator.state.rows import inserted_id
from syndicator.state.schema import bulletins
from syndicator.state.values import BULLETINS_CHANGED, get_value, set_value

_CHUNK = 500




_KNOWN_COLS = (bulletins.c.id, bulletins.c.source_id, bulletins.c.content_hash,
               bulletins.c.state, bulletins.c.published_at, bulletins.c.source_updated_at,
               bulletins.c.source_key)


def known(conn: sa.Connection, source_ids: Sequence[str]) -> dict[str, Known]:
    out: dict[str, Known] = {}
    for start in range(0, len(source_ids), _CHUNK):
        chunk = list(source_ids[start:start + _CHUNK])
        for row in conn.execute(sa.select(*_KNOWN_COLS)
                                .where(bulletins.c.source_id.in_(chunk))):
            out[row.source_id] = Known(*row)
    return out


def note_change(conn: sa.Connection) -> None:
    """Mark that bulletins changed in this transaction (every writer calls it once)."""
    set_value(conn, BULLETINS_CHANGED, uuid.uuid4().hex)


def fingerprint(conn: sa.Connection) -> tuple[Any, ...]:
    """Moves whenever a bulletin is added or changed: the change token, and the newest id
    (which alone catches inserts by a writer that predates the token). Two key lookups."""
    newest = conn.scalar(sa.select(bulletins.c.id).order_by(bulletins.c.id.desc()).limit(1))
    return get_value(conn, BULLETINS_CHANGED), newest


def insert(conn: sa.Connection, b: CleanBulletin, now: datetime, notify: bool,
           source_key: str | None = None) -> int:
    values = _content(b) | {"first_seen_at": now, "changed_at": now, "notify": notify,
                            "state": "public", "revision": 1, "source_key": source_key}
    return inserted_id(conn.execute(bulletins.insert().values(**values)))


def update(conn: sa.Connection, k: Known, b: CleanBulletin, now: datetime,
           source_key: str | None) -> None:
    """New content or a return from withdrawal; first_seen_at never moves. `source_key` is
    the portal's own spelling of the id (None: the same as source_id), written every time."""
    conn.execute(bulletins.update().where(bulletins.c.id == k.id).values(
        **_content(b), changed_at=now, state="public", withdrawn_at=None,
        revision=bulletins.c.revision + 1, source_key=source_key))


def withdraw(conn: sa.Connection, ids: Sequence[int], now: datetime) -> None:
    for start in range(0, len(ids), _CHUNK):
        conn.execute(bulletins.update()
                     .where(bulletins.c.id.in_(list(ids[start:start + _CHUNK])),
                            bulletins.c.state == "public")
                     .values(state="withdrawn", withdrawn_at=now, changed_at=now))


def hot(conn: sa.Connection, seen_since: datetime, newest: int, limit: int) -> list[Known]:
    """Bulletins a reader may still be shown: recently seen, at the top of the feed, or
    recently withdrawn (an unpublished bulletin is often published again soon)."""
    public = bulletins.c.state == "public"
    recent = (sa.select(*_KNOWN_COLS).where(public, bulletins.c.first_seen_at >= seen_since)
              .order_by(bulletins.c.first_seen_at.desc()).limit(limit))
    top = (sa.select(*_KNOWN_COLS).where(public)
           .order_by(bulletins.c.published_at.desc()).limit(newest))
    withdrawn = (sa.select(*_KNOWN_COLS).where(bulletins.c.state == "withdrawn",
                                               bulletins.c.withdrawn_at >= seen_since)
                 .order_by(bulletins.c.withdrawn_at.desc()).limit(limit))
    rows = {r.id: Known(*r) for q in (recent, top, withdrawn) for r in conn.execute(q)}
    return list(rows.values())


def newest_source_ids(conn: sa.Connection, limit: int) -> list[str]:
    """The source ids of the bulletins we stored last (by our id)."""
    query = sa.select(bulletins.c.source_id).order_by(bulletins.c.id.desc()).limit(limit)
    return list(conn.scalars(query))


def public_after(conn: sa.Connection, after_id: int, limit: int) -> list[Known]:
    """The next public bulletins by our id, for the rotating verification sweep."""
    rows = conn.execute(sa.select(*_KNOWN_COLS)
                        .where(bulletins.c.state == "public", bulletins.c.id > after_id)
                        .order_by(bulletins.c.id).limit(limit))
    return [Known(*r) for r in rows]


def _content(b: CleanBulletin) -> dict[str, Any]:
    return {
        "source_id": b.source_id, "title": b.title, "summary": b.summary,
        "body_html": b.body_html, "author": b.author, "category": b.category,
        "category_slug": b.category_slug, "url": b.url, "published_at": b.published_at,
        "source_updated_at": b.source_updated_at, "content_hash": b.content_hash,
    } | content_json.encode(b)


# --- reads for feeds, digests and pages -------------------------------------------------

_JSON_FIELDS = ("categories", "category_slugs", "document", "attachments")
_STORED = tuple(f for f in Bulletin.__dataclass_fields__
                if f not in _JSON_FIELDS and f in bulletins.c)


def _bulletin(row: Any) -> Bulletin:
    return Bulletin(**{f: getattr(row, f) for f in _STORED}, **content_json.decode(row))


def public_newest(conn: sa.Connection, limit: int, offset: int = 0,
                  category_slug: str | None = None) -> list[Bulletin]:
    """Public bulletins, newest publication first (ties by our id, for a stable order)."""
    query = (sa.select(bulletins).where(bulletins.c.state == "public")
             .order_by(bulletins.c.published_at.desc(), bulletins.c.id.desc())
             .limit(limit).offset(offset))
    if category_slug is not None:
        query = query.where(content_json.in_category(category_slug))
    return [_bulletin(r) for r in conn.execute(query)]


def withdrawn_since(conn: sa.Connection, since: datetime,
                    category_slug: str | None = None) -> list[Bulletin]:
    """Bulletins withdrawn at or after `since` (for deleted-entry markers)."""
    query = (sa.select(bulletins).where(bulletins.c.state == "withdrawn",
                                        bulletins.c.withdrawn_at >= since)
             .order_by(bulletins.c.withdrawn_at.desc(), bulletins.c.id.desc()))
    if category_slug is not None:
        query = query.where(content_json.in_category(category_slug))
    return [_bulletin(r) for r in conn.execute(query)]


def _announceable(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(bulletins.c.state == "public", bulletins.c.notify == sa.true(),
                   bulletins.c.first_seen_at >= start, bulletins.c.first_seen_at < end)


def announceable_seen_between(conn: sa.Connection, start: datetime,
                              end: datetime) -> list[Bulletin]:
    """Public, announceable bulletins first seen in [start, end): a digest period's content."""
    query = (sa.select(bulletins).where(_announceable(start, end))
             .order_by(bulletins.c.published_at.desc(), bulletins.c.id.desc()))
    return [_bulletin(r) for r in conn.execute(query)]


def any_announceable_seen_between(conn: sa.Connection, start: datetime, end: datetime) -> bool:
    """Whether that period has content (asked every poll: no rows are loaded)."""
    return bool(conn.scalar(sa.select(sa.exists().where(_announceable(start, end)))))


def get_many(conn: sa.Connection, ids: Sequence[int]) -> list[Bulletin]:
    out: list[Bulletin] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start:start + _CHUNK])
        out += [_bulletin(r) for r in conn.execute(
            sa.select(bulletins).where(bulletins.c.id.in_(chunk)))]
    return out


def categories(conn: sa.Connection) -> list[tuple[str, str]]:
    """(name, slug) of every category with at least one public bulletin, by name."""
    return sorted(_pairs(conn, bulletins.c.state == "public"))


def slug_owner(conn: sa.Connection, slug: str) -> str | None:
    """The category name that first took `slug` (its oldest bulletin's), if any."""
    row = conn.execute(sa.select(bulletins.c.category, bulletins.c.category_slug,
                                 bulletins.c.categories)
                       .where(content_json.in_category(slug))
                       .order_by(bulletins.c.id).limit(1)).first()
    if row is None:
        return None
    name: str | None = _names_by_slug(row).get(slug, row.category)
    return name


def slug_taken(conn: sa.Connection, slug: str) -> bool:
    return conn.scalar(sa.select(bulletins.c.id).where(content_json.in_category(slug))
                       .limit(1)) is not None


def category_slugs(conn: sa.Connection) -> dict[str, str]:
    """Category name -> the slug its bulletins carry (every name ever used)."""
    return dict(_pairs(conn, sa.true()))


def _pairs(conn: sa.Connection, where: sa.ColumnElement[bool]) -> set[tuple[str, str]]:
    """Every (name, slug) among the bulletins `where` selects: distinct combinations only."""
    rows = conn.execute(sa.select(bulletins.c.category, bulletins.c.category_slug,
                                  bulletins.c.categories).distinct()
                        .where(where, bulletins.c.category.is_not(None)))
    out: set[tuple[str, str]] = set()
    for r in rows:
        if r.categories:
            out.update((n, s) for n, s in json.loads(r.categories))
        elif r.category_slug:
            out.add((r.category, r.category_slug))
    return out


def _names_by_slug(row: Any) -> dict[str, str]:
    pairs = json.loads(row.categories) if row.categories else []
    return {s: n for n, s in pairs}
