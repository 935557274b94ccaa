"""Sending against a real SMTP server that misbehaves: nothing lost, duplicates only when a 250
was lost, nothing to unsubscribed or pending addresses, one Message-ID per delivery."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog.testing

from syndicator.config.settings import Settings
from syndicator.delivery import send
from syndicator.planning import due
from syndicator.state.leases import PLACE, SENDER, key
from syndicator.state.schema import deliveries, digest_runs, subscribers
from syndicator.state.values import set_value

from .delivery_data import add_bulletin, add_subscriber
from .smtp_server import FaultyHandler, Refusing, SmtpServer

UTC = UTC
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
IN_PERIOD = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FAULTS = {"t451@example.gov.vn": ["451"], "t452@example.gov.vn": ["452", "452"],
          "b550@example.gov.vn": ["550"], "drop@example.gov.vn": ["drop"],
          "lost250@example.gov.vn": ["lose250"], "hang@example.gov.vn": ["hang"]}
GOOD = [f"ok{i}@example.gov.vn" for i in range(6)]


def settings_for(port: int, tmp: Path, **delivery: Any) -> Settings:
    return Settings(
        mail={"transport": "smtp", "outbox_dir": str(tmp / "mail")},
        smtp={"host": "127.0.0.1", "port": port, "security": "none", "timeout": 2,
              "connections": 3},
        delivery={"retry_delays": [0], "max_attempts": 4, "lease_seconds": 30} | delivery,
        security={"secret_key": "test-secret-key-for-links-0123456789"})


def seed(engine: sa.Engine) -> None:
    add_bulletin(engine, IN_PERIOD)
    add_bulletin(engine, IN_PERIOD, category="Thi đua", slug="thi-dua", title="Khen thưởng")
    for email in [*GOOD, *FAULTS]:
        add_subscriber(engine, email, text_size="large" if email == GOOD[0] else "standard")
    add_subscriber(engine, "unsub@example.gov.vn", status="unsubscribed")
    add_subscriber(engine, "pending@example.gov.vn", status="pending")


async def deliver_until_done(settings: Settings, engine: sa.Engine, rounds: int = 8) -> list[Any]:
    reports = []
    for _ in range(rounds):
        reports.append(await send.deliver_due(settings, engine, asyncio.Event(),
                                                 retry_now=True))
        with engine.connect() as conn:
            open_ = conn.scalar(sa.select(sa.func.count()).where(
                deliveries.c.status.in_(("pending", "sending"))))
        if not open_:
            break
    return reports


def delivery_rows(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {r.email: r for r in conn.execute(
            sa.select(deliveries, subscribers.c.email)
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id))}


async def test_faults_lose_nothing_and_duplicate_only_a_lost_250(state: sa.Engine,
                                                                  tmp_path: Path) -> None:
    seed(state)
    handler = FaultyHandler(plan={k: list(v) for k, v in FAULTS.items()}, hang_seconds=5)
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path)
        run = due.run_digest(settings, state, "daily", NOW)
        assert run.deliveries == len(GOOD) + len(FAULTS)
        await deliver_until_done(settings, state)
    got = handler.by_rcpt()
    rows = delivery_rows(state)
    for email in [*GOOD, *FAULTS]:
        expected = {"b550@example.gov.vn": 0, "lost250@example.gov.vn": 2}.get(email, 1)
        assert len(got.get(email, [])) == expected, email
        ids = {r.message_id for r in got.get(email, [])}
        assert ids <= {rows[email].message_id}, email  # the same Message-ID on every attempt
    assert "unsub@example.gov.vn" not in got and "pending@example.gov.vn" not in got
    assert rows["b550@example.gov.vn"].status == "failed"
    assert rows["b550@example.gov.vn"].last_code == 550
    assert rows["t452@example.gov.vn"].attempts == 3 and rows["t451@example.gov.vn"].attempts == 2
    assert {r.status for e, r in rows.items() if e != "b550@example.gov.vn"} == {"sent"}
    assert all(r.sent_at is not None for r in rows.values() if r.status == "sent")
    with state.connect() as conn:
        assert conn.scalar(sa.select(digest_runs.c.status)) == "complete"
    assert handler.attempts["b550@example.gov.vn"] == 1  # a 5xx is never repeated


async def test_run_is_not_complete_while_a_delivery_waits_for_retry(state: sa.Engine,
                                                                    tmp_path: Path) -> None:
    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "t451@example.gov.vn")
    add_subscriber(state, "ok@example.gov.vn")
    handler = FaultyHandler(plan={"t451@example.gov.vn": ["451"]})
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path, retry_delays=[3600])
        due.run_digest(settings, state, "daily", NOW)
        report = await send.deliver_due(settings, state, asyncio.Event())
        assert (report.sent, report.retried) == (1, 1)
        with state.connect() as conn:
            assert conn.scalar(sa.select(digest_runs.c.status)) == "sending"
        # Not due yet: a plain round sends nothing; --retry-now does.
        assert (await send.deliver_due(settings, state, asyncio.Event())).sent == 0
        assert (await send.deliver_due(settings, state, asyncio.Event(), True)).sent == 1
    with state.connect() as conn:
        assert conn.scalar(sa.select(digest_runs.c.status)) == "complete"


async def test_421_at_connect_stops_the_round_and_loses_nothing(state: sa.Engine,
                                                                 tmp_path: Path) -> None:
    seed(state)
    with Refusing() as refusing:
        settings = settings_for(refusing.port, tmp_path)
        due.run_digest(settings, state, "daily", NOW)
        report = await send.deliver_due(settings, state, asyncio.Event(), retry_now=True)
    assert report.unreachable and report.sent == 0
    assert refusing.connections <= settings.smtp.connections  # no hammering a refusing server
    with state.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(
            deliveries.c.status == "sending")) == 0
    with SmtpServer() as server:
        await deliver_until_done(settings_for(server.port, tmp_path), state)
    got = server.handler.by_rcpt()
    assert sorted(got) == sorted([*GOOD, *FAULTS]) and all(len(v) == 1 for v in got.values())


async def test_consecutive_hard_bounces_suspend_the_subscriber(state: sa.Engine,
                                                               tmp_path: Path) -> None:
    add_bulletin(state, IN_PERIOD)
    sid = add_subscriber(state, "b550@example.gov.vn")
    handler = FaultyHandler(plan={"b550@example.gov.vn": ["550"]})
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path, bounce_threshold=1)
        due.run_digest(settings, state, "daily", NOW)
        await send.deliver_due(settings, state, asyncio.Event())
    with state.connect() as conn:
        row = conn.execute(sa.select(subscribers).where(subscribers.c.id == sid)).one()
    assert (row.status, row.hard_bounces) == ("bounced", 1)


async def test_graceful_stop_releases_unstarted_claims(state: sa.Engine, tmp_path: Path) -> None:
    add_bulletin(state, IN_PERIOD)
    emails = [f"s{i}@example.gov.vn" for i in range(60)]
    for e in emails:
        add_subscriber(state, e)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    class StopAfter(FaultyHandler):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            reply = await super().handle_DATA(server, session, envelope)
            if len(self.received) == 10:
                loop.call_soon_threadsafe(stop.set)
            return reply

    handler = StopAfter()
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path, lease_seconds=600)
        due.run_digest(settings, state, "daily", NOW)
        report = await send.deliver_due(settings, state, stop)
        assert report.stopped and report.released > 0 and report.sent < 60
        with state.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).where(
                deliveries.c.status == "sending")) == 0
        await deliver_until_done(settings, state)
    got = handler.by_rcpt()
    assert sorted(got) == sorted(emails) and all(len(v) == 1 for v in got.values())


async def test_file_transport_allowlist_and_retry_overwrites(state: sa.Engine,
                                                             tmp_path: Path) -> None:
    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "a@allowed.gov.vn")
    add_subscriber(state, "b@elsewhere.example")
    settings = Settings(mail={"transport": "file", "outbox_dir": str(tmp_path / "mail"),
                              "allow_only": ["*@allowed.gov.vn"]},
                        security={"secret_key": "k" * 32})
    due.run_digest(settings, state, "daily", NOW)
    with structlog.testing.capture_logs() as logged:
        report = await send.deliver_due(settings, state, asyncio.Event())
    assert (report.sent, report.skipped) == (1, 1)
    held = [e for e in logged if e["event"] == "delivery.held_back"]
    assert [e["recipient"] for e in held] == ["b@elsewhere.example"]  # logged, not sent
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and b"a@allowed.gov.vn" in files[0].read_bytes()
    rows = delivery_rows(state)
    assert rows["b@elsewhere.example"].status == "skipped"
    assert "allow_only" in rows["b@elsewhere.example"].last_reply
    # A retry of the same delivery writes the same file name: no duplicate file.
    with state.begin() as conn:
        conn.execute(deliveries.update().values(status="pending"))
    await send.deliver_due(settings, state, asyncio.Event())
    assert sorted((tmp_path / "mail").glob("*.eml")) == files
    assert files[0].name == rows["a@allowed.gov.vn"].message_id.strip("<>").split("@")[0] + ".eml"


async def test_withdrawn_bulletins_are_dropped_before_sending(state: sa.Engine,
                                                              tmp_path: Path) -> None:
    from syndicator.state.schema import bulletins

    only = add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "a@example.gov.vn")
    settings = Settings(mail={"transport": "file", "outbox_dir": str(tmp_path / "mail")},
                        security={"secret_key": "k" * 32})
    due.run_digest(settings, state, "daily", NOW)
    with state.begin() as conn:
        conn.execute(bulletins.update().where(bulletins.c.id == only).values(state="withdrawn"))
    report = await send.deliver_due(settings, state, asyncio.Event())
    assert (report.sent, report.skipped) == (0, 1)
    assert not list((tmp_path / "mail").glob("*.eml"))


async def test_second_sqlite_sender_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    alive = f"{PLACE}:{os.getppid()}:abcd"  # a live process on this host
    with engine.begin() as conn:
        set_value(conn, key(SENDER), f"{alive}|{datetime.now(UTC).timestamp() + 300}")
    settings = Settings(mail={"transport": "file", "outbox_dir": str(tmp_path / "mail")})
    with pytest.raises(send.SenderBusy, match="one sender"):
        await send.deliver_due(settings, engine, asyncio.Event())
    dead = f"{PLACE}:999999:abcd"  # no such pid: a crashed sender
    with engine.begin() as conn:
        set_value(conn, key(SENDER), f"{dead}|{datetime.now(UTC).timestamp() + 300}")
    await send.deliver_due(settings, engine, asyncio.Event())
    engine.dispose()


async def test_dkim_signature_covers_list_unsubscribe_and_verifies(state: sa.Engine,
                                                                    tmp_path: Path) -> None:
    import dkim

    data_dir = Path(__file__).resolve().parents[1] / "data"
    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "a@example.gov.vn")
    settings = Settings(mail={"transport": "file", "outbox_dir": str(tmp_path / "mail"),
                              "dkim_selector": "test",
                              "dkim_private_key": (data_dir / "dkim-test-key.pem").read_text()},
                        security={"secret_key": "k" * 32})
    due.run_digest(settings, state, "daily", NOW)
    assert (await send.deliver_due(settings, state, asyncio.Event())).sent == 1
    message = next((tmp_path / "mail").glob("*.eml")).read_bytes()
    public = (data_dir / "dkim-test-key.pub.b64").read_text().strip()
    txt = f"v=DKIM1; k=rsa; p={public}".encode()
    assert dkim.verify(message, dnsfunc=lambda name, timeout=5: txt)
    signed = message.split(b"\r\n\r\n", 1)[0].split(b"h=", 1)[1].split(b";", 1)[0]
    assert b"list-unsubscribe" in signed.replace(b"\r\n", b"").replace(b" ", b"").lower()
    tampered = message.replace(b"List-Unsubscribe-Post:", b"X-Removed:", 1)
    assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: txt)


async def test_a_message_that_cannot_be_composed_does_not_stop_the_others(
        state: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicator.compose.composer import DigestComposer

    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "broken@example.gov.vn")
    add_subscriber(state, "fine@example.gov.vn")
    original = DigestComposer.message

    def message(self: Any, digest: Any, recipient: Any, **kw: Any) -> bytes:
        if recipient.email.startswith("broken"):
            raise RuntimeError("template bug")
        return original(self, digest, recipient, **kw)

    monkeypatch.setattr(DigestComposer, "message", message)
    settings = Settings(mail={"transport": "file", "outbox_dir": str(tmp_path / "mail")},
                        delivery={"max_attempts": 2, "retry_delays": [0]},
                        security={"secret_key": "k" * 32})
    due.run_digest(settings, state, "daily", NOW)
    first = await send.deliver_due(settings, state, asyncio.Event())
    assert (first.sent, first.retried) == (1, 1)
    second = await send.deliver_due(settings, state, asyncio.Event())
    assert second.failed == 1
    row = delivery_rows(state)["broken@example.gov.vn"]
    assert row.status == "failed" and "template bug" in row.last_reply


async def test_stop_cuts_a_hung_transaction_after_the_grace_period(
        state: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from syndicator.delivery import pacing

    monkeypatch.setattr(pacing, "STOP_GRACE", 1.0)
    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "hang@example.gov.vn")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    class StopWhileHanging(FaultyHandler):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            loop.call_soon_threadsafe(stop.set)
            return await super().handle_DATA(server, session, envelope)

    handler = StopWhileHanging(plan={"hang@example.gov.vn": ["hang"]}, hang_seconds=20)
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path, lease_seconds=120)
        settings = settings.model_copy(update={"smtp": settings.smtp.model_copy(
            update={"timeout": 30})})
        due.run_digest(settings, state, "daily", NOW)
        started = time.monotonic()
        report = await send.deliver_due(settings, state, stop)
        assert time.monotonic() - started < 6 and report.stopped and report.retried == 1
    row = delivery_rows(state)["hang@example.gov.vn"]
    assert (row.status, row.attempts) == ("pending", 1)


async def test_retry_now_retries_each_delivery_once_per_round(state: sa.Engine,
                                                               tmp_path: Path) -> None:
    add_bulletin(state, IN_PERIOD)
    add_subscriber(state, "t451@example.gov.vn")
    handler = FaultyHandler(plan={"t451@example.gov.vn": ["451", "451", "451"]})
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path, retry_delays=[3600])
        due.run_digest(settings, state, "daily", NOW)
        first = await send.deliver_due(settings, state, asyncio.Event(), retry_now=True)
        second = await send.deliver_due(settings, state, asyncio.Event(), retry_now=True)
    assert (first.retried, second.retried) == (1, 1)
    assert delivery_rows(state)["t451@example.gov.vn"].attempts == 2


async def test_an_idn_domain_is_sent_in_its_ascii_form_and_stalls_nothing(
        state: sa.Engine, tmp_path: Path) -> None:
    add_bulletin(state, IN_PERIOD)
    idn = ["vanthu@sởnộivụ.vn", "hanhchinh@ubnd-bắckạn.vn", "c@bộ.vn", "d@xã.vn"]
    for email in [*idn, *GOOD, "vănthư@so.vn"]:  # the last: legacy data we cannot send to
        add_subscriber(state, email)
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path)  # 3 connections: 4 IDN > connections
        due.run_digest(settings, state, "daily", NOW)
        reports = await asyncio.wait_for(deliver_until_done(settings, state, rounds=2), 60)
    assert reports[0].sent == len(idn) + len(GOOD) and not reports[0].errors
    got = set(handler.by_rcpt())
    assert {"vanthu@xn--sniv-6y5a8a8b.vn", "c@xn--b-8xm.vn"} <= got, got
    rows = delivery_rows(state)
    unsendable = rows.pop("vănthư@so.vn")
    assert (unsendable.status, unsendable.attempts) == ("failed", 1)  # final, not retried
    assert "cannot compose" in unsendable.last_reply
    assert all(r.status == "sent" for r in rows.values())


async def test_a_claim_never_outlives_its_lease_in_the_queue(sqlite_url: str,
                                                             tmp_path: Path) -> None:
    """A server slower than the lease allows for a whole batch: claims that waited too long
    are given back and claimed afresh, never sent on an expired lease (a second sender, or
    this one, could hold it by then): each subscriber gets exactly one message."""
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    add_bulletin(engine, IN_PERIOD)
    emails = [f"slow{i}@example.gov.vn" for i in range(70)]
    for email in emails:
        add_subscriber(engine, email)
    handler = FaultyHandler(delay_seconds=0.35)  # 32 claims x 0.35 s > 10 s lease
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path, lease_seconds=10)
        settings = settings.model_copy(update={"smtp": settings.smtp.model_copy(
            update={"connections": 1})})
        due.run_digest(settings, engine, "daily", NOW)
        reports = await deliver_until_done(settings, engine, rounds=4)
    got = handler.by_rcpt()
    assert sorted(got) == sorted(emails)
    assert {e: len(got[e]) for e in emails if len(got[e]) != 1} == {}
    assert sum(r.lease_short for r in reports) >= 1  # the give-back path ran
    assert all(r.status == "sent" and r.attempts == 1 for r in delivery_rows(engine).values())
