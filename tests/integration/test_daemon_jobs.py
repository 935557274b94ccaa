"""The daemon's poll job keeps one portal connection and reflection, and recovers from a
portal whose table changed under it without a restart."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.runtime.jobs import Jobs
from syndicator.state.db import state_engine, upgrade
from syndicator.state.schema import bulletins
from syndicator.telemetry.health import Health
from tests.portal import Portal


def portal_now() -> str:
    """A naive local time, as the portal's CMS writes (the default timezone's wall clock)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None).isoformat(" ")


async def test_poll_job_reuses_the_source_and_reflects_again_after_a_failure(
        tmp_path: Path) -> None:
    portal_url = f"sqlite:///{tmp_path / 'portal.db'}"
    settings = Settings(source={"url": portal_url},
                        database={"url": f"sqlite:///{tmp_path / 'state.db'}"})
    portal = Portal(portal_url)
    portal.insert(1)
    engine = state_engine(settings)
    upgrade(engine)
    health = Health()
    jobs = Jobs(settings, engine, health, frozenset())

    await jobs.poll()
    first = jobs._source
    portal.insert(2)
    await jobs.poll()
    assert jobs._source is first  # one engine and one reflection for the daemon's life

    with portal.engine.begin() as conn:  # the portal renames a mapped column
        conn.execute(sa.text("ALTER TABLE bulletins RENAME COLUMN author TO tac_gia"))
    with portal.engine.begin() as conn:  # and publishes: a whole row must be read now
        conn.execute(sa.text("INSERT INTO bulletins (id, title, url, status, published_at) "
                             "VALUES (3, 'Bản tin số 3', 'https://portal.example/tin/3', "
                             "'published', :at)"), {"at": portal_now()})
    await jobs.poll()
    assert jobs._source is None and not health.poll_ok and "author" in health.poll_error

    with portal.engine.begin() as conn:  # and puts it back: the next poll works again
        conn.execute(sa.text("ALTER TABLE bulletins RENAME COLUMN tac_gia TO author"))
    await jobs.poll()
    assert jobs._source is not None and health.poll_ok
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(bulletins)) == 3
