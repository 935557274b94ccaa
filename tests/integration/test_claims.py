"""Outbox claims: a delivery is held by one claimant at a time; leases expire and are released."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.delivery import send
from syndicator.planning import due
from syndicator.state import outbox
from syndicator.state.conflicts import with_retries
from syndicator.state.schema import deliveries

from .delivery_data import add_bulletin, add_subscribers

UTC = UTC
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def queue(engine: sa.Engine, count: int) -> None:
    add_bulletin(engine, datetime(2026, 11, 24, 12, tzinfo=UTC))
    add_subscribers(engine, count)
    due.run_digest(Settings(), engine, "daily", NOW)


def test_claim_lease_expiry_and_release(state: sa.Engine) -> None:
    queue(state, 5)
    now = datetime.now(UTC)
    with state.begin() as conn:
        a = outbox.claim(conn, "a", now, 3, 60)
    with state.begin() as conn:
        b = outbox.claim(conn, "b", now, 10, 60)
    assert len(a) == 3 and len(b) == 2 and not {c.id for c in a} & {c.id for c in b}
    assert all(c.attempts == 1 for c in a + b)
    with state.begin() as conn:
        assert outbox.claim(conn, "c", now, 10, 60) == []
        outbox.release(conn, [c.id for c in a], "a", now)
    with state.begin() as conn:
        again = outbox.claim(conn, "c", now, 10, 60)
    assert {c.id for c in again} == {c.id for c in a} and all(c.attempts == 1 for c in again)
    later = now + timedelta(seconds=61)
    with state.begin() as conn:
        expired = outbox.claim(conn, "d", later, 10, 60)
    assert len(expired) == 5 and {c.attempts for c in expired} == {2}


def test_concurrent_claimers_never_share_a_delivery(server_state: sa.Engine) -> None:
    """On the servers only: SQLite allows one sender (test_second_sqlite_sender_is_refused)."""
    state = server_state
    queue(state, 300)
    taken: dict[str, list[int]] = {}

    engine = send.sender_engine(state)  # as senders run it (READ COMMITTED on MariaDB)

    def claim_once(name: str) -> list[outbox.Claimed]:
        with engine.begin() as conn:
            return outbox.claim(conn, name, datetime.now(UTC), 7, 60)

    def claimer(name: str) -> None:
        got: list[int] = []
        while True:
            batch = with_retries(lambda: claim_once(name))  # deadlocks are retried, as senders do
            if not batch:
                break
            got += [c.id for c in batch]
        taken[name] = got

    errors: list[BaseException] = []

    def guarded(name: str) -> None:
        try:
            claimer(name)
        except BaseException as exc:  # noqa: BLE001 - a dead thread must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    every = [i for ids in taken.values() for i in ids]
    assert len(every) == len(set(every)) == 300
    with state.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(
            deliveries.c.status == "sending")) == 300
