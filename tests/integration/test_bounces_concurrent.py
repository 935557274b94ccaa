"""Readers at once on PostgreSQL and MariaDB (two daemons on one mailbox, a pipe and a daemon):
every returned message has exactly one effect, and reports about one subscriber add up."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from syndicator.bounces.intake import Intake, Taken
from syndicator.config.settings import Settings
from syndicator.state.schema import consent_events, deliveries, returned_messages, subscribers
from tests.integration.delivery_data import add_subscriber
from tests.support.returned_mail import CORPUS_SECURITY, VERP, corpus, postfix_dsn

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
READERS = 4


def _settings(threshold: int) -> Settings:
    return Settings(security=CORPUS_SECURITY, bounces={"return_path": "bounces@bounce.test"},
                    delivery={"bounce_threshold": threshold})


def _sent(state: sa.Engine, subscriber_id: int, count: int) -> list[int]:
    with state.begin() as conn:
        return [conn.execute(deliveries.insert().values(
            kind="manage_link", subscriber_id=subscriber_id, status="sent", attempts=1,
            last_code=250, next_attempt_at=NOW, created_at=NOW, updated_at=NOW, sent_at=NOW,
            message_id=f"<m{n}.{subscriber_id}@bantin.example>")).inserted_primary_key[0]
                for n in range(count)]


def _all_at_once(calls: list[Callable[[], Taken]]) -> list[Taken]:
    """Each call in its own thread, released together."""
    start = threading.Barrier(len(calls))
    results: list[Taken | BaseException] = [RuntimeError("not run")] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def test_the_same_messages_read_by_several_readers_at_once_have_one_effect_each(
        server_state: sa.Engine) -> None:
    agency = add_subscriber(server_state, "vanthu@xa-a.backan.example")
    ids = _sent(server_state, agency, 6)
    readers = [Intake.configured(_settings(threshold=100), server_state) for _ in range(READERS)]
    for n, did in enumerate(ids):
        same = postfix_dsn(did, f"<m{n}.{agency}@bantin.example>", "vanthu@xa-a.backan.example",
                           queue=f"A{n}")
        # A second DSN about the same delivery, read at the same moment as the first.
        other = postfix_dsn(did, f"<m{n}.{agency}@bantin.example>",
                            "vanthu@xa-a.backan.example", queue=f"B{n}")
        taken = _all_at_once([lambda r=r, raw=raw: r.take(raw, now=NOW)  # type: ignore[misc]
                              for r in readers for raw in (same, other)])
        effects = Counter(t.effect for t in taken)
        assert effects == {"counted": 1, "already_counted": 1, "duplicate": 2 * READERS - 2}, \
            effects
    with server_state.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(returned_messages)) == 12
        late = conn.scalar(sa.select(sa.func.count()).where(
            deliveries.c.late_bounce_at.is_not(None)))
        count = conn.scalar(sa.select(subscribers.c.hard_bounces)
                            .where(subscribers.c.id == agency))
    assert (late, count) == (6, 6)


def test_bounces_of_one_subscriber_read_at_once_still_reach_the_threshold(
        server_state: sa.Engine) -> None:
    """Each reader marks its own delivery; the last to commit must count the others' marks."""
    agency = add_subscriber(server_state, "vanthu@xa-b.backan.example")
    ids = _sent(server_state, agency, 3)
    raws = [postfix_dsn(did, f"<m{n}.{agency}@bantin.example>", "vanthu@xa-b.backan.example",
                        queue=f"C{n}") for n, did in enumerate(ids)]
    readers = [Intake.configured(_settings(threshold=3), server_state) for _ in raws]
    taken = _all_at_once([lambda r=r, raw=raw: r.take(raw, now=NOW)  # type: ignore[misc]
                          for r, raw in zip(readers, raws, strict=True)])
    assert sorted(t.effect for t in taken) == ["counted", "counted", "suspended"]
    with server_state.connect() as conn:
        status = conn.scalar(sa.select(subscribers.c.status).where(subscribers.c.id == agency))
        bounced = conn.scalar(sa.select(sa.func.count()).where(
            consent_events.c.subscriber_id == agency, consent_events.c.event == "bounced"))
    assert (status, bounced) == ("bounced", 1)


def test_two_requests_to_unsubscribe_at_once_record_one_event(
        server_state: sa.Engine) -> None:
    agency = add_subscriber(server_state, "vanthu@xa-c.backan.example")
    raws = [corpus("unsubscribe-mailto.eml", **{
        VERP.unsubscribe_address(9, 0): VERP.unsubscribe_address(agency, 0),
        "<unsub-1@": f"<unsub-{n}@"}) for n in range(READERS)]
    readers = [Intake.configured(_settings(threshold=3), server_state) for _ in raws]
    taken = _all_at_once([lambda r=r, raw=raw: r.take(raw, now=NOW)  # type: ignore[misc]
                          for r, raw in zip(readers, raws, strict=True)])
    assert Counter(t.effect for t in taken) == {"unsubscribed": 1,
                                                "already_unsubscribed": READERS - 1}
    with server_state.connect() as conn:
        events = conn.scalar(sa.select(sa.func.count()).where(
            consent_events.c.subscriber_id == agency, consent_events.c.event == "unsubscribed"))
    assert events == 1
