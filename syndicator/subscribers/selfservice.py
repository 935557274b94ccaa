"""Self-service use cases behind the web pages: double opt-in, preferences, unsubscribe, consent."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.models.subscriber import NewSubscriber, Subscriber, email_key
from syndicator.state import outbox
from syndicator.state import subscribers as store
from syndicator.state.schema import subscribers
from syndicator.subscribers.policy import confirmation_state
from syndicator.subscribers.throttle import check_ceiling, recently_mailed
from syndicator.subscribers.tokens import LinkToken

# SQLite has no row locks: one process, so a lock here makes check-then-record atomic.
_claim_lock = threading.Lock()
REQUESTS = ("subscribed", "subscribe_requested")  # events that hold a request's preferences
LEFT = ("unsubscribed", "bounced")  # events after which an older confirmation link is void
ONE_CLICK = "one-click"  # the consent source of an RFC 8058 unsubscribe


class LinkGone(Exception):
    """The link's subscriber is gone or its links were reset (token version moved on)."""


@dataclass(frozen=True)
class MailOrder:
    """A mail the pages owe someone ('confirmation' or 'manage_link'), queued in the outbox."""

    kind: str
    subscriber: Subscriber
    delivery_id: int
    request: int | None = None  # confirmation: the request (consent event) its link confirms


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation link finds: 'open', 'active', 'closed' (policy.confirmation_state),
    or 'confirmed' just now; and the preferences an open link would apply."""

    state: str
    subscriber: Subscriber
    requested: NewSubscriber | None = None

    @property
    def shown(self) -> Subscriber:
        """The subscriber as the confirm page presents it: with the requested preferences."""
        r = self.requested
        if r is None:
            return self.subscriber
        return replace(self.subscriber, name=r.name, frequency=r.frequency,
                       categories=r.categories, text_size=r.text_size)


@dataclass(frozen=True)
class SelfService:
    """Every state change of the pages; each writes its consent event in the same transaction."""

    engine: Engine
    mail_interval: timedelta
    mails_per_hour: int = 0  # subscriptions.mails_per_hour; 0: no ceiling

    def request_subscription(self, new: NewSubscriber, *, detail: dict[str, Any],
                             now: datetime) -> MailOrder | None:
        """A form request: None when this address was mailed too recently (nothing changes);
        throttle.MailCeiling when the pages reached their hourly ceiling (nothing changes)."""
        with _claim_lock, self.engine.begin() as conn:
            existing = _locked_by_email(conn, new.email)
            if existing is not None and self._recently_mailed(conn, existing.id, now):
                return None
            check_ceiling(conn, self.mails_per_hour, now)
            if existing is None:
                try:
                    with conn.begin_nested():
                        sid, request = store.insert(conn, new, status="pending",
                                                    source="form", now=now, detail=detail)
                except sa.exc.IntegrityError:  # the same address, just now, on another replica
                    return None
                return self._claim(conn, sid, "confirmation", now, request)
            if existing.status == "active":
                # Never let a stranger change an active subscription: mail its owner a link.
                return self._claim(conn, existing.id, "manage_link", now)
            # An unverified form must not change what is stored: the request waits in its
            # event and is applied only when its confirmation link is used.
            request = store.record_request(conn, existing.id, new, source="form", now=now,
                                           detail=detail | {"status": existing.status})
            return self._claim(conn, existing.id, "confirmation", now, request)

    def request_manage_link(self, email: str, *, now: datetime) -> MailOrder | None:
        """The 'lost my link' form: an order only for a known, not recently mailed address
        (throttle.MailCeiling past the hourly ceiling, whether or not the address is known)."""
        with _claim_lock, self.engine.begin() as conn:
            existing = _locked_by_email(conn, email)
            if existing is not None and self._recently_mailed(conn, existing.id, now):
                return None
            check_ceiling(conn, self.mails_per_hour, now)
            if existing is None:
                return None
            return self._claim(conn, existing.id, "manage_link", now)

    def resend_confirmation(self, subscriber_id: int, *, now: datetime,
                            also: Callable[[sa.Connection], object] | None = None,
                            ) -> MailOrder | None:
        """An operator mails a pending subscriber their confirmation link again (for their
        latest request), under the same one-mail-per-interval rule as the form: None when
        one went out too recently, or the subscriber is not pending. `also` runs in the same
        transaction when a mail is queued (the console's audit entry)."""
        with _claim_lock, self.engine.begin() as conn:
            sid = _lock(conn, subscribers.c.id == subscriber_id)
            sub = store.get(conn, sid) if sid is not None else None
            if sub is None or sub.status != "pending":
                return None
            if self._recently_mailed(conn, sub.id, now):
                return None
            order = self._claim(conn, sub.id, "confirmation", now,
                                store.latest_event_id(conn, sub.id, REQUESTS))
            if also is not None:
                also(conn)
            return order

    def subscriber(self, subscriber_id: int, version: int) -> Subscriber:
        with self.engine.connect() as conn:
            return _current(conn, subscriber_id, version)

    def confirmation(self, link: LinkToken) -> Confirmation:
        """What this confirmation link would do now (nothing changes)."""
        with self.engine.connect() as conn:
            return _confirmation(conn, link)

    def confirm(self, link: LinkToken, *, detail: dict[str, Any],
                now: datetime) -> Confirmation:
        """An open request becomes active with its preferences; any other state is left as is."""
        with _claim_lock, self.engine.begin() as conn:
            _lock(conn, subscribers.c.id == link.subscriber_id)
            found = _confirmation(conn, link)
            if found.state != "open":
                return found
            store.set_status(conn, link.subscriber_id, "active", event="confirmed",
                             source="confirm-link", now=now, detail=detail,
                             prefs=found.requested)
            done = store.get(conn, link.subscriber_id)
            return Confirmation("confirmed", done)  # type: ignore[arg-type]

    def save_preferences(self, subscriber_id: int, version: int, new: NewSubscriber,
                         paused: bool, *, detail: dict[str, Any], now: datetime) -> Subscriber:
        with self.engine.begin() as conn:
            sub = _current(conn, subscriber_id, version)
            prefs = NewSubscriber(email=sub.email, name=new.name, frequency=new.frequency,
                                  categories=new.categories, text_size=new.text_size)
            store.update_preferences(conn, sub.id, prefs, source="preferences-page", now=now,
                                     paused=paused, detail=detail)
            if _preferences(sub, {}) != prefs or sub.paused != paused:
                # A short note that the choice was saved: the mailbox owner learns of a change
                # made with a link that may have been forwarded.
                outbox.enqueue(conn, "preferences_changed", sub.id, now)
            return store.get(conn, sub.id)  # type: ignore[return-value]

    def resubscribe(self, subscriber_id: int, version: int, *, detail: dict[str, Any],
                    now: datetime) -> tuple[Subscriber, str | None]:
        """A manage link proves the mailbox: it activates an unsubscribed or bounced address
        ('resubscribed'), and confirms a pending one ('confirmed'); the subscriber and the
        event recorded (None: already active, nothing recorded)."""
        with self.engine.begin() as conn:
            sub = _current(conn, subscriber_id, version)
            event = None
            if sub.status != "active":
                event = "confirmed" if sub.status == "pending" else "resubscribed"
                store.set_status(conn, sub.id, "active", event=event, source="preferences-page",
                                 now=now, detail=detail)
            return store.get(conn, sub.id), event  # type: ignore[return-value]

    def unsubscribe(self, subscriber_id: int, version: int, *, source: str,
                    detail: dict[str, Any], now: datetime) -> Subscriber:
        with self.engine.begin() as conn:
            sub = _current(conn, subscriber_id, version)
            if sub.status != "unsubscribed":
                store.set_status(conn, sub.id, "unsubscribed", event="unsubscribed",
                                 source=source, now=now, detail=detail)
                if source != ONE_CLICK:  # RFC 8058: a mail provider's POST gets no mail back
                    outbox.enqueue(conn, "unsubscribed", sub.id, now)
            return store.get(conn, sub.id)  # type: ignore[return-value]

    def _recently_mailed(self, conn: sa.Connection, subscriber_id: int,
                         now: datetime) -> bool:
        return recently_mailed(conn, subscriber_id, self.mail_interval, now)

    @staticmethod
    def _claim(conn: sa.Connection, subscriber_id: int, kind: str, now: datetime,
               request: int | None = None) -> MailOrder:
        """Record the mail in the consent history and queue it in the outbox, in the same
        transaction: it is sent ahead of digests, retried like them, and kept as proof."""
        store.record(conn, subscriber_id, f"{kind}_sent", "web", now, {})
        payload = {"request": request} if request is not None else None
        delivery_id = outbox.enqueue(conn, kind, subscriber_id, now, payload)
        sub = store.get(conn, subscriber_id)
        assert sub is not None  # locked or inserted in this transaction
        return MailOrder(kind, sub, delivery_id, request)


def _locked_by_email(conn: sa.Connection, email: str) -> Subscriber | None:
    """The subscriber row, locked until commit."""
    sid = _lock(conn, subscribers.c.email_key == email_key(email))
    return store.get(conn, sid) if sid is not None else None


def _lock(conn: sa.Connection, row: sa.ColumnElement[bool]) -> int | None:
    """Lock the subscriber row until commit (PostgreSQL/MariaDB) so replicas take turns; its
    id. Called first in a transaction: MariaDB (repeatable read) takes the snapshot the later
    reads see at the first plain read, so only once the row is ours."""
    return conn.scalar(sa.select(subscribers.c.id).where(row).with_for_update())


def _confirmation(conn: sa.Connection, link: LinkToken) -> Confirmation:
    sub = _current(conn, link.subscriber_id, link.version)
    state = confirmation_state(sub.status, link.request,
                               store.latest_event_id(conn, sub.id, LEFT))
    if state != "open":
        return Confirmation(state, sub)
    return Confirmation(state, sub, _requested(conn, sub, link.request))


def _requested(conn: sa.Connection, sub: Subscriber, request: int | None) -> NewSubscriber:
    """The preferences of the request (links mailed before they carried one: the latest)."""
    if request is None:
        request = store.latest_event_id(conn, sub.id, REQUESTS)
        if request is None:
            return _preferences(sub, {})
    found = store.event(conn, sub.id, request)
    if found is None or found.event not in REQUESTS:
        raise LinkGone(sub.id)  # not a request of this subscriber
    return _preferences(sub, found.detail)


def _preferences(sub: Subscriber, detail: Mapping[str, Any]) -> NewSubscriber:
    return NewSubscriber(email=sub.email, name=str(detail.get("name", sub.name)),
                         frequency=str(detail.get("frequency", sub.frequency)),
                         categories=tuple(detail.get("categories", sub.categories)),
                         text_size=str(detail.get("text_size", sub.text_size)))


def _current(conn: sa.Connection, subscriber_id: int, version: int) -> Subscriber:
    sub = store.get(conn, subscriber_id)
    if sub is None or sub.token_version != version:
        raise LinkGone(subscriber_id)
    return sub

