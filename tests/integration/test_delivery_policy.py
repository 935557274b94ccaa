"""Delivery policy against a real SMTP server: the retry schedule to its end, consecutive hard
bounces, and subscribers who change their mind between a run and its sending."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from syndicator.delivery import send
from syndicator.planning import due
from syndicator.state import subscribers as subscriber_store
from syndicator.state.schema import deliveries, subscribers
from syndicator.telemetry import metrics

from .delivery_data import add_bulletin, add_subscriber
from .smtp_server import FaultyHandler, SmtpServer
from .test_delivery_faults import IN_PERIOD, NOW, delivery_rows, settings_for

UTC = UTC


def _count(result: str) -> float:
    value = metrics.REGISTRY.get_sample_value("syndicator_deliveries_total",
                                              {"result": result, "smtp_code": "451"})
    return value or 0.0


async def _round(settings: Any, engine: sa.Engine) -> Any:
    return await send.deliver_due(settings, engine, asyncio.Event(), retry_now=True)


async def test_a_recipient_that_always_defers_follows_the_schedule_then_fails(
        state: sa.Engine, tmp_path: Path) -> None:
    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "later@example.gov.vn")
    handler = FaultyHandler(plan={"later@example.gov.vn": ["451"] * 10})
    failed_before = _count("failed")
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path, retry_delays=[60, 600], max_attempts=3)
        due.run_digest(settings, state, "daily", NOW)
        waits = []
        for _ in range(3):
            started = datetime.now(UTC)
            await _round(settings, state)
            row = delivery_rows(state)["later@example.gov.vn"]
            waits.append((row.status, round((_aware(row.next_attempt_at) - started)
                                            .total_seconds() / 10) * 10))
    # attempts 1 and 2 wait retry_delays[0] and [1]; attempt 3 = max_attempts is final
    assert [w[0] for w in waits] == ["pending", "pending", "failed"]
    assert [w[1] for w in waits[:2]] == [60, 600]
    assert (row.attempts, row.last_code) == (3, 451)
    assert handler.attempts["later@example.gov.vn"] == 3 and not handler.received
    assert _count("failed") - failed_before == 1


async def test_hard_bounces_suspend_only_when_consecutive(state: sa.Engine,
                                                          tmp_path: Path) -> None:
    """Threshold 3: bounce, bounce, delivered (the count restarts), then three bounces."""
    sub = add_subscriber(state, "flaky@example.gov.vn")
    plan = ["550", "550", "ok", "550", "550", "550"]
    handler = FaultyHandler(plan={"flaky@example.gov.vn": list(plan)})
    statuses = []
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path, bounce_threshold=3)
        for day in range(len(plan)):
            seen = IN_PERIOD + timedelta(days=day)
            add_bulletin(state, seen)
            due.run_digest(settings, state, "daily", NOW + timedelta(days=day))
            await _round(settings, state)
            with state.connect() as conn:
                statuses.append((subscriber_store.get(conn, sub).status,
                                 conn.scalar(sa.select(subscribers.c.hard_bounces)
                                             .where(subscribers.c.id == sub))))
    assert statuses == [("active", 1), ("active", 2), ("active", 0), ("active", 1),
                        ("active", 2), ("bounced", 3)]
    assert len(handler.received) == 1


async def test_who_leaves_after_the_run_was_made_gets_nothing(state: sa.Engine,
                                                              tmp_path: Path) -> None:
    add_bulletin(state, IN_PERIOD)
    stays = add_subscriber(state, "stays@example.gov.vn")
    leaves = add_subscriber(state, "leaves@example.gov.vn")
    pauses = add_subscriber(state, "pauses@example.gov.vn")
    # the first attempt is deferred, so the change happens between two attempts
    handler = FaultyHandler(plan={e: ["451"] for e in ("stays@example.gov.vn",
                                                       "leaves@example.gov.vn",
                                                       "pauses@example.gov.vn")})
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path)
        run = due.run_digest(settings, state, "daily", NOW)
        assert run.deliveries == 3
        await _round(settings, state)
        now = datetime.now(UTC)
        with state.begin() as conn:
            subscriber_store.set_status(conn, leaves, "unsubscribed", event="unsubscribed",
                                        source="test", now=now)
            conn.execute(subscribers.update().where(subscribers.c.id == pauses)
                         .values(paused=True))
        await _round(settings, state)
    assert sorted(handler.by_rcpt()) == ["stays@example.gov.vn"]
    rows = delivery_rows(state)
    assert rows["stays@example.gov.vn"].status == "sent"
    assert {rows[e].status for e in ("leaves@example.gov.vn", "pauses@example.gov.vn")} \
        == {"skipped"}
    with state.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(
            deliveries.c.subscriber_id == stays, deliveries.c.status == "sent")) == 1


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
