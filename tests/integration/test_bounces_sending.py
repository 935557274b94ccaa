"""What goes out so that what comes back can be read: each delivery's own signed envelope
sender, each subscriber's own signed mailto, From and DKIM as they were; and unknown returns
forwarded to a person with a null envelope sender."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiosmtpd.controller import Controller

from syndicator.bounces.intake import Intake
from syndicator.config.settings import Settings
from syndicator.delivery import send
from syndicator.delivery.forward import forward_due
from syndicator.planning import due
from syndicator.state import outbox
from syndicator.state.schema import deliveries, returned_messages, subscribers
from tests.integration.delivery_data import add_bulletin, add_subscriber
from tests.integration.smtp_server import free_port
from tests.support.returned_mail import CORPUS_SECURITY, VERP, corpus, postfix_dsn

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 12, 5, 0, 5, tzinfo=UTC)
SEEN = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
RETURN_PATH = "bounces@bounce.test"


class Sink:
    """An SMTP server that keeps the envelope; refuses the addresses in `refuse`."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, envelope.rcpt_tos[0], envelope.content))
        return "250 2.0.0 queued"


class Running:
    def __init__(self, sink: Sink) -> None:
        self.sink, self.port = sink, free_port()
        self._controller = Controller(sink, hostname="127.0.0.1", port=self.port,
                                      ready_timeout=30)

    def __enter__(self) -> Running:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def _settings(tmp: Path, port: int | None = None, return_path: str | None = RETURN_PATH,
              **mail: Any) -> Settings:
    transport = {"transport": "smtp"} if port else {"transport": "file"}
    return Settings(
        mail={"outbox_dir": str(tmp / "mail"), "dkim_selector": "test",
              "dkim_private_key": (DATA / "dkim-test-key.pem").read_text()} | transport | mail,
        smtp={"host": "127.0.0.1", "port": port or 25, "security": "none", "timeout": 5},
        delivery={"retry_delays": [0], "lease_seconds": 30},
        security=CORPUS_SECURITY, bounces={"return_path": return_path})


def _dkim_ok(message: bytes) -> bool:
    import dkim

    public = (DATA / "dkim-test-key.pub.b64").read_text().strip()
    txt = f"v=DKIM1; k=rsa; p={public}".encode()
    return bool(dkim.verify(message, dnsfunc=lambda name, timeout=5: txt))


def _ids(state: sa.Engine) -> dict[str, tuple[int, int]]:
    """email -> (delivery id, subscriber id)"""
    with state.connect() as conn:
        rows = conn.execute(sa.select(subscribers.c.email, deliveries.c.id, subscribers.c.id)
                            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id))
        return {e: (d, s) for e, d, s in rows}


async def test_each_delivery_has_its_own_envelope_sender_and_each_subscriber_its_mailto(
        state: sa.Engine, tmp_path: Path) -> None:
    add_bulletin(state, SEEN)
    a = add_subscriber(state, "vanthu@xa-a.backan.example")
    add_subscriber(state, "vanthu@xa-b.backan.example")
    with Running(Sink()) as server:
        settings = _settings(tmp_path, server.port)
        due.run_digest(settings, state, "daily", NOW)
        with state.begin() as conn:  # a page mail goes out the same way
            outbox.enqueue(conn, "manage_link", a, datetime.now(UTC))
        assert (await send.deliver_due(settings, state, asyncio.Event())).sent == 3
    assert len({mail_from for mail_from, *_ in server.sink.received}) == 3
    for mail_from, _, data in server.sink.received:
        msg = email.message_from_bytes(data, policy=email.policy.default)
        tag = VERP.read(mail_from)
        assert tag is not None and mail_from.startswith("bounces+")
        with state.connect() as conn:
            row = conn.execute(sa.select(deliveries.c.subscriber_id, deliveries.c.message_id)
                               .where(deliveries.c.id == tag.delivery_id)).one()  # type: ignore[union-attr]
        assert row.message_id == msg["Message-ID"]  # this very delivery
        assert msg["From"].addresses[0].addr_spec == "bantin@sonoivu.backan.example"
        assert _dkim_ok(data)
        if msg["List-Unsubscribe"]:
            mailto = VERP.unsubscribe_address(row.subscriber_id, 0)
            assert f"<mailto:{mailto}?subject=unsubscribe>" in str(msg["List-Unsubscribe"])
    assert sum(1 for *_, d in server.sink.received if b"List-Unsubscribe:" in d) == 2


async def test_a_dsn_about_a_message_sent_this_way_names_its_delivery(
        state: sa.Engine, tmp_path: Path) -> None:
    add_bulletin(state, SEEN)
    add_subscriber(state, "ghost@relay.test")
    with Running(Sink()) as server:
        settings = _settings(tmp_path, server.port)
        due.run_digest(settings, state, "daily", NOW)
        await send.deliver_due(settings, state, asyncio.Event())
    (mail_from, rcpt, data), = server.sink.received
    message_id = email.message_from_bytes(data)["Message-ID"]
    dsn = postfix_dsn(None, message_id, rcpt).replace(
        VERP.envelope_sender(101).encode(), mail_from.encode())
    dsn = dsn.replace(b"bounces@bounce.test", mail_from.encode())  # as Postfix addressed it
    taken = Intake.configured(settings, state).take(dsn)
    assert (taken.effect, taken.report.delivery_id) == ("counted", _ids(state)[rcpt][0])


async def test_without_a_return_path_the_envelope_is_as_before(state: sa.Engine,
                                                               tmp_path: Path) -> None:
    add_bulletin(state, SEEN)
    add_subscriber(state, "vanthu@xa-c.backan.example")
    with Running(Sink()) as server:
        settings = _settings(tmp_path, server.port, return_path=None)
        due.run_digest(settings, state, "daily", NOW)
        await send.deliver_due(settings, state, asyncio.Event())
    (mail_from, _, data), = server.sink.received
    assert mail_from == "bantin@sonoivu.backan.example"
    assert b"mailto:" not in data.split(b"\r\n\r\n", 1)[0]


async def test_the_file_transport_records_the_envelope_sender(state: sa.Engine,
                                                              tmp_path: Path) -> None:
    add_bulletin(state, SEEN)
    add_subscriber(state, "vanthu@xa-d.backan.example")
    settings = _settings(tmp_path)
    due.run_digest(settings, state, "daily", NOW)
    await send.deliver_due(settings, state, asyncio.Event())
    (eml,) = (tmp_path / "mail").glob("*.eml")
    first, rest = eml.read_bytes().split(b"\r\n", 1)
    delivery_id = _ids(state)["vanthu@xa-d.backan.example"][0]
    assert first == f"Return-Path: <{VERP.envelope_sender(delivery_id)}>".encode()
    assert _dkim_ok(rest)


async def test_without_a_return_path_the_file_is_as_before(state: sa.Engine,
                                                           tmp_path: Path) -> None:
    add_bulletin(state, SEEN)
    add_subscriber(state, "vanthu@xa-e.backan.example")
    settings = _settings(tmp_path, return_path=None)
    due.run_digest(settings, state, "daily", NOW)
    await send.deliver_due(settings, state, asyncio.Event())
    (eml,) = (tmp_path / "mail").glob("*.eml")
    assert eml.read_bytes().startswith(b"DKIM-Signature:")


def test_an_unknown_message_is_forwarded_to_reply_to_once(state: sa.Engine,
                                                          tmp_path: Path) -> None:
    reply = corpus("human-reply.eml")
    with Running(Sink()) as server:
        settings = _settings(tmp_path, server.port, reply_to="vanthu@sonoivu.backan.example")
        taken = Intake.configured(settings, state).take(reply)
        assert taken.effect == "forward"
        assert forward_due(settings, state) == 1
        assert forward_due(settings, state) == 0  # once
    (mail_from, rcpt, data), = server.sink.received
    assert (mail_from, rcpt) == ("<>", "vanthu@sonoivu.backan.example")  # MAIL FROM:<>
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert str(msg["Subject"]).startswith("Thư gửi đến địa chỉ nhận thư trả về")
    assert msg["Auto-Submitted"] == "auto-generated"
    (attached,) = [p for p in msg.iter_attachments()]
    assert attached.get_filename() == "thu-goc.eml" and attached.get_content() == reply
    assert f"syndicator bounces show {taken.record_id}" in msg.get_body(("plain",)).get_content()
    assert _dkim_ok(data)
    with state.connect() as conn:
        assert conn.scalar(sa.select(returned_messages.c.forwarded_at)) is not None


def test_a_forward_that_fails_is_kept_and_tried_again_later(state: sa.Engine,
                                                            tmp_path: Path) -> None:
    with Running(Sink(refuse=("vanthu@sonoivu.backan.example",))) as server:
        settings = _settings(tmp_path, server.port, reply_to="vanthu@sonoivu.backan.example")
        Intake.configured(settings, state).take(corpus("human-reply.eml"))
        assert forward_due(settings, state) == 0
        assert forward_due(settings, state) == 0  # not again before RETRY_AFTER
    with state.connect() as conn:
        row = conn.execute(sa.select(returned_messages)).one()
    assert (row.effect, row.forward_attempts, row.forwarded_at) == ("forward", 1, None)
    assert row.raw == corpus("human-reply.eml")
