"""Migration 0009: mail to configured addresses (canary, operator) and one run per period end;
existing deliveries stay as they are, and the way back keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syndicator.config.databases import create_engine
from syndicator.state.db import upgrade
from syndicator.state.outbox import RUN_OVERDUE, enqueue_to
from syndicator.state.schema import deliveries, digest_contents, digest_runs, subscribers
from tests.integration.test_migrations import _migrate, _new


def test_0009_takes_addressed_mail_and_refuses_two_runs_ending_together(db_url: str) -> None:
    engine = create_engine(db_url, "database.url")
    t = datetime(2026, 12, 1, tzinfo=UTC)
    try:
        _migrate(engine, "0004")
        with engine.begin() as conn:  # tables as 0004 left them (today's columns but two)
            sub = _new(conn, subscribers, email="a@x.gov.vn", email_key="a@x.gov.vn",
                       frequency="daily", categories=[], text_size="standard",
                       status="active", consent_source="test", created_at=t, updated_at=t)
            run = _new(conn, digest_runs, frequency="daily", period_start=t - timedelta(days=1),
                       period_end=t, status="sending", created_at=t)
            content = _new(conn, digest_contents, digest_id="d", run_id=run,
                           content_key="k", bulletin_ids=[], created_at=t)
            old = sa.table("deliveries", *map(sa.column, (
                "run_id", "subscriber_id", "content_id", "status", "next_attempt_at",
                "created_at", "updated_at")))
            naive = t.replace(tzinfo=None)
            conn.execute(old.insert().values(run_id=run, subscriber_id=sub, content_id=content,
                                             status="pending", next_attempt_at=naive,
                                             created_at=naive, updated_at=naive))
        upgrade(engine)
        with engine.begin() as conn:
            assert conn.execute(sa.select(deliveries.c.subscriber_id,
                                          deliveries.c.address)).one() == (sub, None)
            conn.execute(deliveries.insert().values(
                run_id=run, content_id=content, address="kiemtra@x.gov.vn", kind="canary",
                priority=4, status="pending", next_attempt_at=t, created_at=t, updated_at=t))
            enqueue_to(conn, RUN_OVERDUE, "vanhanh@x.gov.vn", t, {"run_id": run})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(digest_runs.insert().values(  # another start, the same end
                frequency="daily", period_start=t - timedelta(hours=1), period_end=t,
                status="complete", created_at=t))
        _migrate(engine, "0004", down=True)
        with engine.begin() as conn:
            left = conn.execute(sa.text("SELECT subscriber_id FROM deliveries")).all()
        assert [tuple(r) for r in left] == [(sub,)]
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("deliveries")}
        assert "address" not in columns and not columns["subscriber_id"]["nullable"]
        upgrade(engine)  # and forward again
    finally:
        engine.dispose()
