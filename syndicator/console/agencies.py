"""The agencies (subscribers) as the console manages them: search, add, edit, remove, re-send a
confirmation, reset links, import and export; each change audited in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.console import audit
from syndicator.console.roles import Actor
from syndicator.errors import UsageError
from syndicator.models.subscriber import NewSubscriber, Subscriber
from syndicator.state import audit as audit_store
from syndicator.state import proof, roster
from syndicator.state import subscribers as store
from syndicator.state.audit import Entry
from syndicator.state.roster import Filters
from syndicator.subscribers import operator
from syndicator.subscribers.operator import ImportReport
from syndicator.subscribers.rules import build
from syndicator.subscribers.selfservice import SelfService

SOURCE = "console"  # the consent history's source for every change made here
HISTORY_LIMIT = 200
COUNT_CAP = 10_000  # beyond this the roster says "more than 10,000"


@dataclass(frozen=True)
class RosterPage:
    """One page of the roster, the total matching, and the keys of the pages around it."""

    items: list[Subscriber]
    total: int  # COUNT_CAP + 1: more than COUNT_CAP
    next_after: str | None
    prev_before: str | None

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP


@dataclass(frozen=True)
class AgencyRecord:
    """One subscriber with its consent history, its mail and what operators did to it."""

    subscriber: Subscriber
    events: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    actions: list[Entry]


class Agencies:
    """Use cases of the agencies pages; `mail_interval` is the pages' one-mail-per-interval."""

    def __init__(self, engine: Engine, mail_interval: timedelta, page_size: int) -> None:
        self._engine = engine
        self._selfservice = SelfService(engine, mail_interval)
        self._size = page_size

    def search(self, filters: Filters, *, after: str | None = None,
               before: str | None = None) -> RosterPage:
        with self._engine.connect() as conn:
            rows = roster.page(conn, filters, self._size + 1, after=after, before=before)
            alone = after is None and before is None and len(rows) <= self._size
            total = len(rows) if alone else roster.count(conn, filters, COUNT_CAP)
        more = len(rows) > self._size
        if before is not None:  # read backwards: the extra row is the first one
            rows, has_next, has_prev = rows[-self._size:], True, more
        else:
            rows, has_next, has_prev = rows[:self._size], more, after is not None
        keys = [s.email.casefold() for s in rows]
        return RosterPage(rows, total, keys[-1] if has_next and keys else None,
                          keys[0] if has_prev and keys else None)

    def record(self, subscriber_id: int) -> AgencyRecord | None:
        with self._engine.connect() as conn:
            sub = store.get(conn, subscriber_id)
            if sub is None:
                return None
            return AgencyRecord(sub, store.history(conn, sub.id),
                                proof.subscriber_deliveries(conn, sub.id, HISTORY_LIMIT),
                                audit_of(conn, sub.id))

    def subscriber(self, subscriber_id: int) -> Subscriber | None:
        with self._engine.connect() as conn:
            return store.get(conn, subscriber_id)

    def categories(self) -> list[str]:
        with self._engine.connect() as conn:
            return sorted(store.known_categories(conn))

    def validate(self, email: str, name: str, frequency: str, categories: Iterable[str],
                 text_size: str) -> NewSubscriber:
        """The form's fields checked by the subscriber rules (raises InvalidField)."""
        return build(email, name, frequency, categories, text_size, self.categories())

    def add(self, actor: Actor, new: NewSubscriber) -> Subscriber:
        """UsageError when the address is already subscribed or pending confirmation."""
        with self._engine.begin() as conn:
            sub = operator.add_in(conn, new.email, new.name, new.frequency, new.categories,
                                  new.text_size, SOURCE, _by(actor))
            audit.record(conn, actor, "subscriber.added", target_kind="subscriber",
                         target_id=sub.id, detail=_prefs(sub))
            return sub

    def edit(self, actor: Actor, subscriber_id: int, new: NewSubscriber) -> Subscriber:
        with self._engine.begin() as conn:
            before = store.get(conn, subscriber_id)
            sub = operator.edit_in(conn, subscriber_id, new.name, new.frequency,
                                   new.categories, new.text_size, SOURCE, _by(actor))
            audit.record(conn, actor, "subscriber.edited", target_kind="subscriber",
                         target_id=sub.id,
                         detail={"from": _prefs(before) if before else {}, "to": _prefs(sub)})
            return sub

    def remove(self, actor: Actor, subscriber_id: int) -> Subscriber:
        with self._engine.begin() as conn:
            sub = operator.remove_in(conn, subscriber_id, SOURCE, _by(actor))
            audit.record(conn, actor, "subscriber.removed", target_kind="subscriber",
                         target_id=sub.id)
            return sub

    def reset_links(self, actor: Actor, subscriber_id: int) -> Subscriber:
        with self._engine.begin() as conn:
            if store.get(conn, subscriber_id) is None:
                raise UsageError(f"no subscriber with id {subscriber_id}")
            sub = operator.reset_links_in(conn, subscriber_id, SOURCE)
            audit.record(conn, actor, "subscriber.links_reset", target_kind="subscriber",
                         target_id=sub.id, detail={"token_version": sub.token_version})
            return sub

    def resend_confirmation(self, actor: Actor, subscriber_id: int) -> bool:
        """Queued (True), or refused: not pending, or mailed within the interval (False)."""
        def also(conn: Any) -> None:
            audit.record(conn, actor, "subscriber.confirmation_resent",
                         target_kind="subscriber", target_id=subscriber_id)

        order = self._selfservice.resend_confirmation(subscriber_id, now=datetime.now(UTC),
                                                      also=also)
        return order is not None

    def import_csv(self, actor: Actor, text: str, filename: str) -> ImportReport:
        """All rows or none (operator.ImportRejected names every bad line)."""
        with self._engine.begin() as conn:
            report = operator.import_in(conn, text, SOURCE, _by(actor))
            audit.record(conn, actor, "subscribers.imported", target_kind="import",
                         target_id=filename[:191] or None,
                         detail={"created": report.created, "updated": report.updated,
                                 "skipped": len(report.skipped)})
            return report

    def export_csv(self, actor: Actor, out: TextIO, everyone: bool) -> int:
        count = operator.export_csv(self._engine, out, everyone=everyone)
        audit.record_alone(self._engine, actor, "subscribers.exported",
                           detail={"rows": count, "everyone": everyone})
        return count


def audit_of(conn: sa.Connection, subscriber_id: int) -> list[Entry]:
    return audit_store.page(conn, HISTORY_LIMIT, target=("subscriber", str(subscriber_id)))


def _by(actor: Actor) -> dict[str, Any]:
    """What the consent history keeps of an operator's change: which account made it."""
    return {"operator": actor.email, "client": actor.client}


def _prefs(s: Subscriber) -> dict[str, Any]:
    return {"name": s.name, "frequency": s.frequency, "categories": list(s.categories),
            "text_size": s.text_size, "status": s.status}
