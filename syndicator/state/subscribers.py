"""Reads and writes subscribers and their consent history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syndicator.models.subscriber import NewSubscriber, Subscriber, email_key
from syndicator.state.rows import inserted_id
from syndicator.state.schema import bulletins, consent_events, subscribers


def _from_row(row: Any) -> Subscriber:
    return Subscriber(
        id=row.id, email=row.email, name=row.name, frequency=row.frequency,
        categories=tuple(row.categories or ()), text_size=row.text_size, status=row.status,
        paused=bool(row.paused), consent_source=row.consent_source,
        token_version=row.token_version, created_at=row.created_at, updated_at=row.updated_at,
        confirmed_at=row.confirmed_at, unsubscribed_at=row.unsubscribed_at)


def get_by_email(conn: sa.Connection, email: str) -> Subscriber | None:
    row = conn.execute(sa.select(subscribers)
                       .where(subscribers.c.email_key == email_key(email))).first()
    return _from_row(row) if row else None


def get(conn: sa.Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(sa.select(subscribers).where(subscribers.c.id == subscriber_id)).first()
    return _from_row(row) if row else None


def lock(conn: sa.Connection, subscriber_id: int) -> str | None:
    """Hold the subscriber's row until commit (PostgreSQL, MariaDB), so that changes which read
    what others may be writing take turns; its status as committed now (a locking read: also
    under MariaDB's repeatable read), None when there is no such subscriber."""
    return conn.scalar(sa.select(subscribers.c.status).where(subscribers.c.id == subscriber_id)
                       .with_for_update())


def get_many(conn: sa.Connection, ids: Iterable[int]) -> dict[int, Subscriber]:
    """The subscribers with these ids, by id (missing ones are absent)."""
    wanted = sorted(set(ids))
    rows = conn.execute(sa.select(subscribers).where(subscribers.c.id.in_(wanted)))
    return {row.id: _from_row(row) for row in rows}


def all_subscribers(conn: sa.Connection) -> Iterator[Subscriber]:
    for row in conn.execute(sa.select(subscribers).order_by(subscribers.c.id)):
        yield _from_row(row)


def insert(conn: sa.Connection, s: NewSubscriber, *, status: str, source: str,
           now: datetime, detail: dict[str, Any]) -> tuple[int, int]:
    """(the new subscriber's id, the id of its 'subscribed' event: the request a confirmation
    link carries)."""
    new_id = inserted_id(conn.execute(subscribers.insert().values(
        email=s.email, email_key=email_key(s.email), name=s.name, frequency=s.frequency,
        categories=list(s.categories), text_size=s.text_size, status=status,
        consent_source=source, created_at=now, updated_at=now,
        confirmed_at=now if status == "active" else None)))
    return new_id, record(conn, new_id, "subscribed", source, now,
                          detail | _prefs(s) | {"status": status})


def update_preferences(conn: sa.Connection, subscriber_id: int, s: NewSubscriber, *,
                       source: str, now: datetime, paused: bool | None = None,
                       event: str = "preferences_changed",
                       detail: dict[str, Any] | None = None) -> None:
    """New preferences (and pause state, when given), recorded as `event`."""
    values: dict[str, Any] = _prefs(s) | {"updated_at": now}
    extra: dict[str, Any] = {}
    if paused is not None:
        values["paused"] = extra["paused"] = paused
    conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id).values(**values))
    record(conn, subscriber_id, event, source, now, (detail or {}) | _prefs(s) | extra)


def set_status(conn: sa.Connection, subscriber_id: int, status: str, *, event: str,
               source: str, now: datetime, detail: dict[str, Any] | None = None,
               prefs: NewSubscriber | None = None) -> None:
    """Change the status (links stay valid: a manage link lets one re-subscribe); `prefs`
    are the preferences of a request being confirmed, applied with it (ending any pause)."""
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "unsubscribed":
        values |= {"unsubscribed_at": now}
    if status == "active":
        values |= {"confirmed_at": now, "unsubscribed_at": None, "hard_bounces": 0}
    extra: dict[str, Any] = {}
    if prefs is not None:
        extra = _prefs(prefs) | {"paused": False}
        values |= extra
    conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id).values(**values))
    record(conn, subscriber_id, event, source, now, (detail or {}) | extra | {"status": status})


def record_request(conn: sa.Connection, subscriber_id: int, s: NewSubscriber, *, source: str,
                   now: datetime, detail: dict[str, Any]) -> int:
    """A subscription request for an address on record: kept in its event, row unchanged."""
    return record(conn, subscriber_id, "subscribe_requested", source, now, detail | _prefs(s))


def reset_links(conn: sa.Connection, subscriber_id: int, *, source: str, now: datetime) -> int:
    """Move the token version on, so every link mailed so far is refused; the new version."""
    conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id).values(
        token_version=subscribers.c.token_version + 1, updated_at=now))
    version = int(conn.execute(sa.select(subscribers.c.token_version)
                               .where(subscribers.c.id == subscriber_id)).scalar_one())
    record(conn, subscriber_id, "links_reset", source, now, {"token_version": version})
    return version


def record(conn: sa.Connection, subscriber_id: int, event: str, source: str, at: datetime,
           detail: dict[str, Any]) -> int:
    """One consent event; its id."""
    return inserted_id(conn.execute(consent_events.insert().values(
        subscriber_id=subscriber_id, at=at, event=event, source=source, detail=detail)))


def event(conn: sa.Connection, subscriber_id: int, event_id: int) -> Any:
    """One consent event of this subscriber (id, event, detail), or None."""
    return conn.execute(sa.select(consent_events.c.id, consent_events.c.event,
                                  consent_events.c.detail)
                        .where(consent_events.c.id == event_id,
                               consent_events.c.subscriber_id == subscriber_id)).first()


def latest_event_id(conn: sa.Connection, subscriber_id: int,
                    events: tuple[str, ...]) -> int | None:
    """The id of this subscriber's newest event among `events`, or None."""
    found = conn.scalar(sa.select(sa.func.max(consent_events.c.id)).where(
        consent_events.c.subscriber_id == subscriber_id, consent_events.c.event.in_(events)))
    return None if found is None else int(found)


def history(conn: sa.Connection, subscriber_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(consent_events).where(
        consent_events.c.subscriber_id == subscriber_id).order_by(consent_events.c.id))
    return [{"at": r.at.isoformat(), "event": r.event, "source": r.source, "detail": r.detail}
            for r in rows]


def note_bounce(conn: sa.Connection, subscriber_id: int) -> int:
    """Count a consecutive hard bounce; returns the new count."""
    conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id)
                 .values(hard_bounces=subscribers.c.hard_bounces + 1))
    return conn.scalar(sa.select(subscribers.c.hard_bounces)
                       .where(subscribers.c.id == subscriber_id)) or 0


def set_bounces(conn: sa.Connection, subscriber_id: int, count: int) -> None:
    """Set the consecutive hard bounce count (as read again from the deliveries)."""
    conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id)
                 .values(hard_bounces=count))


def reset_bounces(conn: sa.Connection, subscriber_ids: Sequence[int]) -> None:
    if subscriber_ids:
        conn.execute(subscribers.update().where(subscribers.c.id.in_(list(subscriber_ids)),
                                                subscribers.c.hard_bounces != 0)
                     .values(hard_bounces=0))


def known_categories(conn: sa.Connection) -> list[str]:
    """Every category name the portal has used (public or withdrawn bulletins), the first
    used first (the one that holds a plain slug when two names fold alike)."""
    names = list(conn.scalars(sa.select(bulletins.c.category)
                              .where(bulletins.c.category.is_not(None))
                              .group_by(bulletins.c.category)
                              .order_by(sa.func.min(bulletins.c.id))))
    # Second and later categories of multi-category bulletins (migration 0010).
    for listed in conn.scalars(sa.select(bulletins.c.categories).distinct()
                               .where(bulletins.c.categories.like('%], [%'))):
        names += [n for n, _slug in json.loads(listed) if n not in names]
    return names


def _prefs(s: NewSubscriber) -> dict[str, Any]:
    return {"frequency": s.frequency, "categories": list(s.categories),
            "text_size": s.text_size, "name": s.name}
