"""The daemon's row-derived metrics on each database: queue depth, due count, latency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.delivery import backlog
from syndicator.planning.due import queue_immediate
from syndicator.state.schema import deliveries
from syndicator.telemetry import metrics
from tests.integration.delivery_data import add_bulletin, add_subscriber, set_watermark

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _latency_count() -> float:
    return metrics.REGISTRY.get_sample_value("syndicator_publication_to_send_seconds_count") or 0


def test_backlog_and_latency(state: sa.Engine) -> None:
    seen = NOW - timedelta(minutes=2)
    add_bulletin(state, seen)  # published an hour before it was seen (delivery_data)
    add_bulletin(state, seen)
    add_subscriber(state, "vanphong@ubnd.example", frequency="immediate")
    add_subscriber(state, "noivu@ubnd.example", frequency="immediate")
    set_watermark(state, NOW)
    assert backlog.depth(state) == (0, 0)

    run = queue_immediate(Settings(), state, NOW)
    assert run is not None and run.deliveries == 2
    assert backlog.depth(state) == (2, 2)
    assert metrics.REGISTRY.get_sample_value("syndicator_delivery_queue_depth") == 2

    with state.begin() as conn:  # one waits for a retry, one was sent
        ids = [r.id for r in conn.execute(sa.select(deliveries.c.id).order_by(deliveries.c.id))]
        conn.execute(deliveries.update().where(deliveries.c.id == ids[0])
                     .values(next_attempt_at=datetime.now(UTC) + timedelta(hours=1)))
        conn.execute(deliveries.update().where(deliveries.c.id == ids[1])
                     .values(status="sent", sent_at=NOW))
        content_id = conn.scalar(sa.select(deliveries.c.content_id)
                                 .where(deliveries.c.id == ids[1]))
    assert backlog.depth(state) == (1, 0)

    before = _latency_count()
    total_before = metrics.REGISTRY.get_sample_value(
        "syndicator_publication_to_send_seconds_sum") or 0
    backlog.record_latency(state, [content_id], NOW)
    assert _latency_count() - before == 2  # one message announcing two bulletins
    total = metrics.REGISTRY.get_sample_value("syndicator_publication_to_send_seconds_sum")
    assert round(total - total_before) == 2 * (62 * 60)  # published 1 h before seen, 2 min ago
