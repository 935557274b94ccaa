"""A run stuck past its deadline raises the alert once (gauge, error line, operator mail),
while the canary got its copy of the run first; against a real SMTP server."""

from __future__ import annotations

import asyncio
import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog.testing

from syndicator.config.settings import Settings
from syndicator.delivery import send
from syndicator.delivery.proof import listing
from syndicator.planning import due
from syndicator.runtime.jobs import Jobs
from syndicator.state.schema import deliveries
from syndicator.telemetry import metrics
from syndicator.telemetry.health import Health

from .delivery_data import add_bulletin, add_subscriber
from .smtp_server import FaultyHandler, SmtpServer

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CANARY = "kiemtra@sonoivu.example.gov.vn"
OPERATOR = "vanhanh@sonoivu.example.gov.vn"
AGENCIES = ["a@ubnd.example.gov.vn", "b@ubnd.example.gov.vn", "c@ubnd.example.gov.vn"]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM)


class Ordered(FaultyHandler):
    """Also keeps the order in which recipients were offered (RCPT TO)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offered: list[str] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        self.offered.append(address.lower())
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def settings_for(port: int, tmp: Path, daily_deadline: int | None = 60) -> Settings:
    return Settings(
        mail={"transport": "smtp", "outbox_dir": str(tmp / "mail"), "operator_address": OPERATOR},
        smtp={"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5,
              "connections": 1},  # one session: the order of sending is the order of claims
        delivery={"retry_delays": [3600], "max_attempts": 6, "lease_seconds": 30},
        digests={"canary": [CANARY], "deadline_minutes": {"daily": daily_deadline}},
        security={"secret_key": "test-secret-key-for-links-0123456789"})


def overdue_gauge(frequency: str) -> float | None:
    return metrics.REGISTRY.get_sample_value("syndicator_digest_run_overdue",
                                             {"frequency": frequency})


def rows(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(deliveries).order_by(deliveries.c.id)))


def recovery_tick(settings: Settings, engine: sa.Engine, now: datetime) -> list[dict[str, Any]]:
    """The daemon's recovery job at `now` (a fresh Jobs: another replica each time)."""
    with structlog.testing.capture_logs() as logs:
        Jobs(settings, engine, Health())._recover(now)
    return [entry for entry in logs if entry["log_level"] == "error"]


def deliver(settings: Settings, engine: sa.Engine, retry_now: bool = False) -> None:
    asyncio.run(send.deliver_due(settings, engine, asyncio.Event(), retry_now=retry_now))


def test_a_stuck_run_alerts_once_and_the_canary_had_its_copy_first(state: sa.Engine,
                                                                   tmp_path: Path) -> None:
    add_bulletin(state, local(2026, 11, 24, 10).astimezone(UTC))
    add_bulletin(state, local(2026, 11, 24, 15).astimezone(UTC), category="Thi đua",
                 slug="thi-dua", title="Khen thưởng")
    add_subscriber(state, AGENCIES[0])
    add_subscriber(state, AGENCIES[1], categories=["Thi đua"])
    add_subscriber(state, AGENCIES[2])
    # The agencies' server defers everything (451): the run cannot complete.
    handler = Ordered(plan={a: ["451"] * 5 for a in AGENCIES})
    with SmtpServer(handler) as server:
        settings = settings_for(server.port, tmp_path)
        run = due.run_digest(settings, state, "daily", local(2026, 11, 25, 7, 0, 30))
        assert run.created and run.deliveries == 4  # three agencies and the canary
        deliver(settings, state)

        # The canary's copy was offered first, and it holds every bulletin of the run.
        assert handler.offered[0] == CANARY and set(handler.offered[1:]) == set(AGENCIES)
        [copy] = handler.by_rcpt()[CANARY]
        text = email.message_from_bytes(copy.data, policy=policy.default).get_body(("plain",))
        assert text is not None
        body = text.get_content()
        assert "Thông báo tuyển dụng" in body and "Khen thưởng" in body
        canary_row = next(r for r in rows(state) if r.address == CANARY)
        assert (canary_row.kind, canary_row.priority, canary_row.status) == ("canary", 4, "sent")
        assert canary_row.subscriber_id is None

        # Before the deadline (07:00 + 60 minutes): nothing to say.
        assert recovery_tick(settings, state, local(2026, 11, 25, 7, 59)) == []
        assert overdue_gauge("daily") == 0

        # Past it: the gauge, one error line, one mail to the operator queued ahead of digests.
        [line] = recovery_tick(settings, state, local(2026, 11, 25, 8, 1))
        assert line["event"] == "digest.run_overdue" and line["run_id"] == run.run_id
        assert (line["unfinished"], line["sent"], line["canary_sent"]) == (3, 1, 1)
        assert overdue_gauge("daily") == 1 and overdue_gauge("weekly") == 0
        [alert] = [r for r in rows(state) if r.kind == "run_overdue"]
        assert (alert.address, alert.priority, alert.run_id) == (OPERATOR, 1, None)

        # Another tick, on any replica: the gauge stays, no second line or mail.
        assert recovery_tick(settings, state, local(2026, 11, 25, 8, 2)) == []
        assert overdue_gauge("daily") == 1
        assert len([r for r in rows(state) if r.kind == "run_overdue"]) == 1

        deliver(settings, state)  # the alert goes out (the agencies are still in backoff)
        [mail] = handler.by_rcpt()[OPERATOR]
        msg = email.message_from_bytes(mail.data, policy=policy.default)
        assert msg["Subject"] == ("Cảnh báo: bản tin hằng ngày 07:00 ngày 25/11/2026 chưa gửi "
                                  "xong sau 60 phút")
        plain = msg.get_body(("plain",))
        assert plain is not None
        said = " ".join(plain.get_content().split())
        assert "hạn chót là 08:00 ngày 25/11/2026" in said
        assert "Đang chờ gửi hoặc chờ gửi lại: 3 thư" in said
        assert f"{CANARY}: đã nhận bản sao lúc " in said
        assert f"syndicator deliveries --run {run.run_id}" in said
        assert "List-Unsubscribe" not in msg

        # The agencies' server recovers; once the run is complete the gauge is back to 0.
        handler.plan.clear()
        deliver(settings, state, retry_now=True)
        assert recovery_tick(settings, state, local(2026, 11, 25, 8, 30)) == []
        assert overdue_gauge("daily") == 0
    assert {r.status for r in rows(state)} == {"sent"}
    assert len(handler.by_rcpt()[OPERATOR]) == 1
    # The proof (`syndicator deliveries`) lists mail to configured addresses too.
    [proof] = listing(state, email=CANARY.upper())
    assert (proof["kind"], proof["email"], proof["run_id"]) == ("canary", CANARY, run.run_id)
    assert {p["email"] for p in listing(state, run_id=run.run_id)} == {CANARY, *AGENCIES}


def test_a_scheduled_run_that_was_never_made_is_overdue_too(state: sa.Engine,
                                                            tmp_path: Path) -> None:
    from syndicator.state.values import set_value

    settings = settings_for(2525, tmp_path)
    due.run_digest(settings, state, "daily", local(2026, 11, 24, 7, 1))  # yesterday's exists
    # A poll holding its lease across 07:00 (stuck): the recovery tick cannot make today's run.
    with state.begin() as conn:
        set_value(conn, "ingest.watermark", local(2026, 11, 25, 6, 59).astimezone(UTC)
                  .isoformat())
        set_value(conn, "lease.poll", f"stuck|{datetime.now(UTC).timestamp() + 600}")
    [line] = recovery_tick(settings, state, local(2026, 11, 25, 8, 5))
    assert line["event"] == "digest.run_overdue" and line["run_id"] is None
    assert line["period_end"] == local(2026, 11, 25, 7).astimezone(UTC).isoformat()
    assert overdue_gauge("daily") == 1
    [alert] = [r for r in rows(state) if r.kind == "run_overdue"]
    assert alert.payload["run_id"] is None and alert.payload["frequency"] == "daily"


def test_no_alert_without_a_deadline_or_on_a_fresh_installation(state: sa.Engine,
                                                                 tmp_path: Path) -> None:
    from syndicator.state.values import set_value

    settings = settings_for(2525, tmp_path)
    with state.begin() as conn:  # a poll stuck across 07:00 on the very first day
        set_value(conn, "lease.poll", f"stuck|{datetime.now(UTC).timestamp() + 600}")
    assert recovery_tick(settings, state, local(2026, 11, 25, 9)) == []
    assert overdue_gauge("daily") == 0
    add_bulletin(state, local(2026, 11, 24, 10).astimezone(UTC))
    add_subscriber(state, AGENCIES[0])
    with state.begin() as conn:
        set_value(conn, "lease.poll", "poller|0")
    due.run_digest(settings, state, "daily", local(2026, 11, 25, 7, 1))
    relaxed = settings_for(2525, tmp_path, daily_deadline=None)
    assert recovery_tick(relaxed, state, local(2026, 11, 25, 12)) == []  # pending, no deadline
    assert overdue_gauge("daily") == 0
    assert [r.kind for r in rows(state)] == ["digest", "canary"]
