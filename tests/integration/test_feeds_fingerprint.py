"""A replica that did not poll rebuilds its feeds when another replica's poll changed a
bulletin, even when that poll's clock ran behind (ingest's change token, not the times);
a poll that changed nothing leaves the feeds alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from syndicator.config.databases import create_engine
from syndicator.config.settings import Settings
from syndicator.ingest.poll import Poller
from syndicator.runtime.jobs import Jobs, _bulletins_fingerprint
from syndicator.source.portal import PortalSource
from syndicator.state.db import upgrade
from syndicator.telemetry.health import Health
from tests.portal import Portal


async def test_feeds_follow_another_replicas_poll(db_pair: tuple[str, str],
                                                  tmp_path: Path) -> None:
    state_url, portal_url = db_pair
    portal = Portal(portal_url)
    portal.insert(1)
    portal.insert(2)
    settings = Settings(source={"url": portal_url}, database={"url": state_url},
                        feeds={"output_dir": str(tmp_path / "feeds")})
    engine = create_engine(state_url, "database.url")
    upgrade(engine)
    try:
        poller = Jobs(settings, engine, Health(), frozenset())  # replica A: polls
        reader = Jobs(settings, engine, Health(), frozenset({"feeds"}))  # replica B: feeds
        await poller.poll()
        await reader.feeds()
        atom = tmp_path / "feeds" / "all.atom"
        assert "Bản tin số 1" in atom.read_text(encoding="utf-8")
        built = reader._feeds_built_at

        await poller.poll()  # nothing changed on the portal
        await reader.feeds()
        assert reader._feeds_built_at == built

        # A's clock is now an hour behind: its change is stamped earlier than the newest one.
        portal.update(1, updated_at=datetime.now(UTC) - timedelta(minutes=30),
                      title="Bản tin số 1 (đính chính)")
        before = _bulletins_fingerprint(engine)
        behind = datetime.now(UTC) - timedelta(hours=1)
        report = Poller(settings, PortalSource(settings.source, settings.tz), engine,
                        clock=lambda: behind).poll()
        assert report.changed and _bulletins_fingerprint(engine) != before
        await reader.feeds()
        assert reader._feeds_built_at > built
        assert "Bản tin số 1 (đính chính)" in atom.read_text(encoding="utf-8")
        with engine.connect() as conn:  # what the old fingerprint read did not move
            assert conn.scalar(sa.text("SELECT count(*) FROM bulletins")) == 2
    finally:
        engine.dispose()
        portal.engine.dispose()
