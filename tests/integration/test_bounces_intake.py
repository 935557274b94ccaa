"""Returned mail applied to the state database (SQLite, PostgreSQL, MariaDB): tied to its
delivery, counted once, and each kind with its effect; hostile mail refused with a log line."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from structlog.testing import capture_logs

from syndicator.bounces.intake import KEEP_BYTES, Intake, Taken
from syndicator.config.settings import Settings
from syndicator.delivery.proof import listing
from syndicator.state import subscribers as subscriber_store
from syndicator.state.schema import consent_events, deliveries, returned_messages, subscribers
from tests.integration.delivery_data import add_subscriber
from tests.support.returned_mail import CORPUS_SECURITY, VERP, corpus, postfix_dsn

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
_n = itertools.count(1)


def settings(**mail: Any) -> Settings:
    return Settings(security=CORPUS_SECURITY, bounces={"return_path": "bounces@bounce.test"},
                    delivery={"bounce_threshold": 3}, mail=mail)


def intake(state: sa.Engine, **mail: Any) -> Intake:
    return Intake.configured(settings(**mail), state)


def sent(state: sa.Engine, subscriber_id: int, status: str = "sent",
         code: int | None = 250) -> tuple[int, str]:
    """A delivery the server answered (status, code); (its id, its Message-ID)."""
    with state.begin() as conn:
        did = conn.execute(deliveries.insert().values(
            kind="manage_link", subscriber_id=subscriber_id, status=status, attempts=1,
            last_code=code, next_attempt_at=NOW, created_at=NOW, updated_at=NOW,
            sent_at=NOW if status == "sent" else None)).inserted_primary_key[0]
        mid = f"<d{did}.manage-link@bantin.example>"
        conn.execute(deliveries.update().where(deliveries.c.id == did).values(message_id=mid))
    return did, mid


def dsn(delivery: tuple[int, str] | None, to: str, *, tag: bool = True,
        subscriber: tuple[int, int] | None = None) -> bytes:
    did, mid = delivery or (None, "<unknown@elsewhere.example>")
    return postfix_dsn(did if tag else None, mid, to, queue=f"Q{next(_n)}", subscriber=subscriber)


def sub(state: sa.Engine, sid: int) -> Any:
    with state.connect() as conn:
        return conn.execute(sa.select(subscribers).where(subscribers.c.id == sid)).one()


def events(state: sa.Engine, sid: int) -> list[tuple[str, str, dict[str, Any]]]:
    with state.connect() as conn:
        rows = conn.execute(sa.select(consent_events.c.event, consent_events.c.source,
                                      consent_events.c.detail)
                            .where(consent_events.c.subscriber_id == sid)
                            .order_by(consent_events.c.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def records(state: sa.Engine) -> list[Any]:
    with state.connect() as conn:
        return list(conn.execute(sa.select(returned_messages).order_by(returned_messages.c.id)))


def take(i: Intake, raw: bytes) -> Taken:
    return i.take(raw, now=NOW)


def test_a_late_hard_bounce_counts_once_per_delivery_up_to_the_threshold(
        state: sa.Engine) -> None:
    """Behind a relay: each digest is accepted (250, which resets the counter as the recorder
    does) and then bounced by mail. The bounces still add up, once per delivery."""
    agency = add_subscriber(state, "vanthu@xa-a.backan.example")
    other = add_subscriber(state, "vanthu@xa-b.backan.example")
    reader = intake(state)
    found = []
    for n in range(3):
        d = sent(state, agency)
        with state.begin() as conn:
            subscriber_store.reset_bounces(conn, [agency])  # the 250 at sending time
        first = dsn(d, "vanthu@xa-a.backan.example")
        found.append(take(reader, first).effect)
        if n == 0:
            assert take(reader, first).duplicate  # the same DSN again: nothing
            # Another DSN about the same delivery (a relay reporting twice): not counted.
            assert take(reader, dsn(d, "vanthu@xa-a.backan.example")).effect == \
                "already_counted"
            assert (sub(state, agency).hard_bounces, sub(state, agency).status) == (1, "active")
        if n == 1:
            assert (sub(state, agency).hard_bounces, sub(state, agency).status) == (2, "active")
    assert found == ["counted", "counted", "suspended"]
    row = sub(state, agency)
    assert (row.status, row.hard_bounces) == ("bounced", 3)
    assert events(state, agency)[-1][:2] == ("bounced", "returned-mail")
    assert events(state, agency)[-1][2]["delivery_id"] == d[0]
    # What `syndicator deliveries` shows, and nothing else changed.
    shown = listing(state)
    assert [r["late_bounce_status"] for r in shown] == ["5.1.1"] * 3
    assert all("unknown user" in r["late_bounce_detail"] and r["status"] == "sent"
               and r["late_bounce_at"] for r in shown)
    assert (sub(state, other).status, sub(state, other).hard_bounces) == ("active", 0)
    assert [r.effect for r in records(state)] == ["counted", "already_counted", "counted",
                                                  "suspended"]
    assert all(r.tied_by == "tag" for r in records(state))


def test_reports_in_any_order_count_the_same_run_of_bounces(state: sa.Engine) -> None:
    """The relay's 250 reset the counter at each send; the run is read from the deliveries."""
    agency = add_subscriber(state, "vanthu@xa-c.backan.example")
    ds = [sent(state, agency) for _ in range(3)]
    reader = intake(state)
    for d in (ds[2], ds[0]):
        take(reader, dsn(d, "vanthu@xa-c.backan.example"))
    assert sub(state, agency).status == "active"
    assert take(reader, dsn(ds[1], "vanthu@xa-c.backan.example")).effect == "suspended"
    assert sub(state, agency).status == "bounced"


def test_a_newer_delivery_without_a_bounce_breaks_the_run(state: sa.Engine) -> None:
    agency = add_subscriber(state, "vanthu@xa-d.backan.example")
    ds = [sent(state, agency) for _ in range(3)]
    sent(state, agency)  # accepted later, and nothing came back for it
    reader = intake(state)
    for d in ds:
        take(reader, dsn(d, "vanthu@xa-d.backan.example"))
    assert (sub(state, agency).status, sub(state, agency).hard_bounces) == ("active", 0)


def test_a_5xx_at_sending_time_is_not_counted_again_by_its_dsn(state: sa.Engine) -> None:
    agency = add_subscriber(state, "vanthu@xa-e.backan.example")
    refused = sent(state, agency, status="failed", code=550)
    with state.begin() as conn:
        subscriber_store.note_bounce(conn, agency)  # what the recorder did at sending time
    assert take(intake(state), dsn(refused, "vanthu@xa-e.backan.example")).effect == \
        "already_counted"
    assert sub(state, agency).hard_bounces == 1


def test_without_a_tag_the_message_id_ties_only_with_the_address_it_was_sent_to(
        state: sa.Engine) -> None:
    agency = add_subscriber(state, "vanthu@xa-f.backan.example")
    d1 = sent(state, agency)
    reader = intake(state)
    with capture_logs() as logs:
        # Our Message-IDs are sequential: someone naming one with another address ties nothing.
        forged = take(reader, dsn(d1, "someone@else.example", tag=False))
    assert forged.effect == "not_a_subscriber"
    assert any(e["event"] == "bounces.message_id_unconfirmed" for e in logs)
    assert any(e["event"] == "bounces.not_a_subscriber" and e["domains"] == ["else.example"]
               for e in logs)
    taken = take(reader, dsn(d1, "vanthu@xa-f.backan.example", tag=False))
    assert taken.effect == "counted"
    assert records(state)[-1].tied_by == "message_id"
    assert records(state)[-1].delivery_id == d1[0]


def test_without_tag_or_message_id_the_address_ties_the_latest_accepted_delivery(
        state: sa.Engine) -> None:
    agency = add_subscriber(state, "VanThu@Xa-G.backan.example")
    sent(state, agency)
    latest = sent(state, agency)
    sent(state, agency, status="pending", code=None)
    taken = take(intake(state), dsn(None, "vanthu@xa-g.backan.example"))
    assert taken.effect == "counted"
    assert (records(state)[-1].tied_by, records(state)[-1].delivery_id) == ("address", latest[0])


def test_soft_delayed_and_auto_replies_change_nothing(state: sa.Engine) -> None:
    agency = add_subscriber(state, "agency@remote.test")
    d = sent(state, agency)
    reader = intake(state)
    delayed = corpus("postfix-delayed.eml", **{VERP.envelope_sender(104):
                                                   VERP.envelope_sender(d[0])})
    assert take(reader, delayed).effect == "none"
    assert take(reader, corpus("autoreply-exchange-oof.eml")).effect == "none"
    assert take(reader, corpus("autoreply-vietnamese-subject.eml")).effect == "none"
    assert [r.kind for r in records(state)] == ["soft", "auto_reply", "auto_reply"]
    assert (sub(state, agency).status, sub(state, agency).hard_bounces) == ("active", 0)
    assert listing(state)[0]["late_bounce_at"] is None


def test_a_complaint_unsubscribes_with_a_consent_event(state: sa.Engine) -> None:
    agency = add_subscriber(state, "vanthu@isp.example")
    d = sent(state, agency)
    arf = corpus("arf-abuse.eml", **{VERP.envelope_sender(212): VERP.envelope_sender(d[0]),
                                     VERP.unsubscribe_address(11, 2):
                                         VERP.unsubscribe_address(agency, 0)})
    taken = take(intake(state), arf)
    assert (taken.report.kind.value, taken.effect) == ("complaint", "unsubscribed")
    assert sub(state, agency).status == "unsubscribed"
    event, source, detail = events(state, agency)[-1]
    assert (event, source, detail["reason"], detail["feedback_type"]) == (
        "unsubscribed", "complaint", "complaint", "abuse")
    assert detail["returned_id"] == taken.record_id


def test_a_complaint_naming_only_an_address_unsubscribes_nobody(state: sa.Engine) -> None:
    """Anyone can mail a feedback report naming anyone: without our tag it is kept, not obeyed."""
    agency = add_subscriber(state, "vanthu@isp.example")
    arf = corpus("arf-abuse.eml", **{VERP.envelope_sender(212): "bounces@bounce.test",
                                     VERP.unsubscribe_address(11, 2): "unsub@bounce.test"})
    with capture_logs() as logs:
        taken = take(intake(state), arf)
    assert taken.effect == "untied"
    assert sub(state, agency).status == "active"
    assert any(e["event"] == "bounces.complaint_untied" for e in logs)
    assert records(state)[-1].raw is not None  # kept for a look


def test_the_signed_mailto_unsubscribes_its_subscriber(state: sa.Engine) -> None:
    agency = add_subscriber(state, "vanthu@xa-i.backan.example")
    request = corpus("unsubscribe-mailto.eml", **{VERP.unsubscribe_address(9, 0):
                                                      VERP.unsubscribe_address(agency, 0)})
    taken = take(intake(state), request)
    assert (taken.report.kind.value, taken.effect) == ("unsubscribe", "unsubscribed")
    assert sub(state, agency).status == "unsubscribed"
    assert events(state, agency)[-1][:2] == ("unsubscribed", "mailto")
    again = corpus("unsubscribe-mailto.eml", **{VERP.unsubscribe_address(9, 0):
                                                    VERP.unsubscribe_address(agency, 0),
                                                "unsub-1@": "unsub-1b@"})
    assert take(intake(state), again).effect == "already_unsubscribed"


def test_a_forged_mailto_for_someone_else_is_refused(state: sa.Engine) -> None:
    victim = add_subscriber(state, "vanthu@xa-j.backan.example")
    forged = corpus("unsubscribe-forged-tag.eml",
                    **{"u-9-0-aaaaaaaaaa": f"u-{victim}-0-aaaaaaaaaa"})
    with capture_logs() as logs:
        taken = take(intake(state, reply_to="vanthu@sonoivu.backan.example"), forged)
    assert taken.effect == "refused_forged"  # and not forwarded as if a person wrote it
    assert sub(state, victim).status == "active"
    assert [e for e in logs if e["event"] == "bounces.unsubscribe_refused"][0]["reason"] == \
        "forged_tag"


def test_a_mailto_of_mail_sent_before_reset_links_is_refused(state: sa.Engine) -> None:
    agency = add_subscriber(state, "vanthu@xa-k.backan.example")
    with state.begin() as conn:
        subscriber_store.reset_links(conn, agency, source="cli", now=NOW)
    stale = corpus("unsubscribe-mailto.eml", **{VERP.unsubscribe_address(9, 0):
                                                    VERP.unsubscribe_address(agency, 0)})
    with capture_logs() as logs:
        assert take(intake(state), stale).effect == "refused_stale"
    assert sub(state, agency).status == "active"
    assert [e for e in logs if e["event"] == "bounces.unsubscribe_refused"][0]["reason"] == \
        "stale_link"


def test_a_persons_reply_is_kept_or_marked_for_forwarding(state: sa.Engine) -> None:
    reply = corpus("human-reply.eml")
    kept = take(intake(state), reply)
    assert (kept.report.kind.value, kept.effect) == ("unknown", "kept")
    row = records(state)[-1]
    assert row.raw == reply and row.detail["subject"]
    other = corpus("human-reply.eml", **{"Message-ID: <": "Message-ID: <x"})
    assert take(intake(state, reply_to="vanthu@sonoivu.backan.example"), other).effect == \
        "forward"


def test_a_20_mb_message_is_refused_and_only_its_start_kept(state: sa.Engine) -> None:
    huge = b"From: a@b.example\r\nSubject: big\r\n\r\n" + b"x" * (20 * 1024 * 1024)
    with capture_logs() as logs:
        taken = take(intake(state), huge[:10 * 1024 * 1024 + 1])  # read_message's cut
    assert (taken.report.kind.value, taken.report.reason, taken.effect) == (
        "unknown", "oversize", "refused")
    assert any(e["event"] == "bounces.refused" and e["reason"] == "oversize" for e in logs)
    assert len(records(state)[-1].raw) == KEEP_BYTES


def test_broken_mime_is_kept_and_said(state: sa.Engine) -> None:
    broken = (b"From: x@y.example\r\nSubject: =?utf-8?b?////?=\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\n"
              b"--\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n"
              b"Status: 9.9.9\r\n\x00\xff\xfe")
    with capture_logs() as logs:
        taken = take(intake(state), broken)
    assert taken.report.kind.value == "unknown" and taken.effect == "kept"
    assert [e for e in logs if e["event"] == "bounces.recorded"][0]["kind"] == "unknown"
    assert records(state)[-1].raw == broken


def test_an_idn_domain_in_a_dsn_finds_the_subscriber_typed_in_unicode(
        state: sa.Engine) -> None:
    agency = add_subscriber(state, "vanthu@xã-k.backan.example")
    sent(state, agency)
    addressed = "vanthu@" + "xã-k.backan.example".encode("idna").decode("ascii")
    assert take(intake(state), dsn(None, addressed)).effect == "counted"


def test_a_bounce_of_a_canary_copy_is_shown_on_it_and_counted_against_nobody(
        state: sa.Engine) -> None:
    with state.begin() as conn:
        did = conn.execute(deliveries.insert().values(
            kind="canary", address="canary@sonoivu.backan.example", status="sent", attempts=1,
            last_code=250, next_attempt_at=NOW, created_at=NOW, updated_at=NOW,
            message_id="<d1.canary@bantin.example>")).inserted_primary_key[0]
    taken = take(intake(state), dsn((did, "<d1.canary@bantin.example>"),
                                    "canary@sonoivu.backan.example"))
    assert (taken.effect, records(state)[-1].tied_by) == ("no_subscriber", "tag")
    assert listing(state)[0]["late_bounce_status"] == "5.1.1"
