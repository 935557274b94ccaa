"""A clock that runs ahead, then is set back: mail keeps flowing.

The daemon's own steps (poll, recovery tick, delivery) run under a controllable clock
(time-machine moves `datetime.now` and `time.time` for every module at once), on each kind
of state database, as the probe of issue 12 ran them: well ahead for a while, then right.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from syndicator.config.databases import create_engine
from syndicator.config.settings import Settings
from syndicator.delivery.send import deliver_due
from syndicator.planning.due import recover_runs
from syndicator.runtime.clock import check_clock
from syndicator.runtime.poll import poll_once
from syndicator.source.portal import PortalSource
from syndicator.state.db import upgrade
from syndicator.state.schema import deliveries, digest_contents, digest_runs
from syndicator.subscribers import operator
from tests.portal import TZ, Portal

# Wednesday 10:00 in Hà Nội: the daily period under way began at 07:00 today.
T0 = datetime(2026, 12, 9, 10, 0, tzinfo=TZ).astimezone(UTC)


class Service:
    """The daemon's steps against one portal and one state database."""

    def __init__(self, state_url: str, portal_url: str, tmp: Path) -> None:
        self.settings = Settings(source={"url": portal_url},
                                 mail={"transport": "file", "outbox_dir": str(tmp / "mail")},
                                 feeds={"output_dir": str(tmp / "feeds")})
        self.portal = Portal(portal_url)
        self.state = create_engine(state_url, "database.url")
        upgrade(self.state)
        self.source = PortalSource(self.settings.source, self.settings.tz)
        self.outbox = tmp / "mail"

    def tick(self) -> None:
        """A poll, then the recovery tick, as the scheduler runs them."""
        poll_once(self.settings, self.state, self.source)
        now = datetime.now(UTC)
        check_clock(self.settings, self.state, now)
        recover_runs(self.settings, self.state, now)

    def deliver(self) -> None:
        asyncio.run(deliver_due(self.settings, self.state, asyncio.Event()))

    def mailed(self, address: str) -> list[str]:
        """Subjects and bodies of every message written for `address`."""
        out = []
        for path in sorted(self.outbox.glob("*.eml")):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if msg["To"].addresses[0].addr_spec == address:
                body = msg.get_body(("plain",))
                out.append(body.get_content() if body is not None else "")
        return out

    def runs(self) -> list[Any]:
        with self.state.connect() as conn:
            return conn.execute(sa.select(digest_runs).order_by(digest_runs.c.id)).all()

    def announced(self, frequency: str) -> list[list[int]]:
        """The bulletin ids of each delivered content of `frequency`, in order."""
        query = (sa.select(digest_contents.c.bulletin_ids)
                 .join(digest_runs, digest_runs.c.id == digest_contents.c.run_id)
                 .join(deliveries, deliveries.c.content_id == digest_contents.c.id)
                 .where(digest_runs.c.frequency == frequency)
                 .order_by(digest_contents.c.id))
        with self.state.connect() as conn:
            return [sorted(r.bulletin_ids) for r in conn.execute(query)]

    def close(self) -> None:
        self.state.dispose()
        self.source.engine.dispose()
        self.portal.engine.dispose()


@pytest.fixture
def svc(db_pair: tuple[str, str], tmp_path: Path) -> Iterator[Service]:
    with time_machine.travel(T0 - timedelta(hours=2), tick=False):
        service = Service(*db_pair, tmp_path)
        for address, frequency in (("ngay@so.example", "immediate"),
                                   ("hang-ngay@so.example", "daily"),
                                   ("hang-tuan@so.example", "weekly")):
            operator.add(service.state, address, None, frequency, [], "standard")
    yield service
    service.close()


@pytest.mark.parametrize("ahead", [timedelta(days=30), timedelta(days=2)])
def test_mail_keeps_flowing_after_the_clock_is_set_back(svc: Service,
                                                        ahead: timedelta) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        svc.portal.insert(1, published_at=T0 - timedelta(minutes=30))
        svc.tick()
        svc.deliver()
        assert len(svc.mailed("ngay@so.example")) == 1

        clock.move_to(T0 + ahead)  # the clock runs ahead for a while ...
        svc.portal.insert(2, published_at=T0 - timedelta(minutes=20))
        svc.tick()
        svc.deliver()
        assert len(svc.mailed("ngay@so.example")) == 2  # bulletin 2, announced while ahead
        ahead_runs = [r for r in svc.runs() if r.period_end > T0 + timedelta(minutes=5)]
        assert ahead_runs  # runs for days that have not come, as the probe saw

        clock.move_to(T0 + timedelta(minutes=5))  # ... and is set back
        svc.portal.insert(3, published_at=T0 + timedelta(minutes=4))
        svc.tick()
        now = datetime.now(UTC)
        assert all(r.period_end <= now + timedelta(microseconds=1) for r in svc.runs())
        svc.deliver()
        immediate = svc.mailed("ngay@so.example")
        assert len(immediate) == 3 and "Bản tin số 3" in immediate[-1]
        assert "Bản tin số 2" not in immediate[-1]  # announced once only
        assert check_clock(svc.settings, svc.state) is None  # repaired once, said once

        clock.move_to(T0 + timedelta(minutes=30))  # immediate notices go on
        svc.portal.insert(4, published_at=T0 + timedelta(minutes=29))
        svc.tick()
        svc.deliver()
        assert "Bản tin số 4" in svc.mailed("ngay@so.example")[-1]

        clock.move_to(datetime(2026, 12, 10, 7, 1, tzinfo=TZ))  # the day's period ends
        svc.tick()
        svc.deliver()
        daily = [b for ids in svc.announced("daily") for b in ids]
        assert sorted(daily) == [1, 2, 3, 4]  # every bulletin of the day, each once

        clock.move_to(datetime(2026, 12, 14, 7, 1, tzinfo=TZ))  # Monday: the week's period
        svc.tick()
        svc.deliver()
        weekly = [b for ids in svc.announced("weekly") for b in ids]
        assert sorted(weekly) == [1, 2, 3, 4]
        assert svc.mailed("hang-tuan@so.example")
