"""The corpus of returned mail (tests/data/returned/) classified, and hostile input survived."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicator.bounces import Kind, classify, message_key, read_message
from syndicator.compose.verp import UnsubscribeTag, Verp
from tests.support.returned_mail import VERP

CORPUS = Path(__file__).resolve().parent.parent / "data" / "returned"
M = "<delivery-{}@syndicator.test>"

# file: (kind, delivery id, status, first recipient, our Message-ID)
EXPECTED: dict[str, tuple[Kind, int | None, str | None, str | None, str | None]] = {
    "postfix-unknown-user.eml": (Kind.HARD, 101, "5.1.1", "ghost@relay.test", M.format(101)),
    "postfix-unknown-user-headers-only.eml": (Kind.HARD, 102, "5.1.1", "ghost@relay.test",
                                              M.format(102)),
    "postfix-relayed-550.eml": (Kind.HARD, 103, "5.1.1", "ghost@remote.test", M.format(103)),
    "postfix-delayed.eml": (Kind.SOFT, 104, "4.4.1", "agency@remote.test", M.format(104)),
    "rfc3464-simple-failed-4xx.eml": (Kind.SOFT, 201, "4.0.0", "vanthu@xa-slow.backan.example",
                                      M.format(201)),
    "rfc3464-multi-recipient.eml": (Kind.HARD, 202, "5.0.0",
                                    "truongphong@huyen-a.backan.example", M.format(202)),
    "rfc3464-delayed.eml": (Kind.SOFT, 203, "4.4.1", "vanthu@xa-xa.backan.example",
                            M.format(203)),
    "rfc3464-relayed.eml": (Kind.DELIVERED, 204, "2.0.0", "vanphong@huyen-d.backan.example",
                            M.format(204)),
    "rfc6533-global-dsn.eml": (Kind.HARD, 213, "5.1.1", "văn.thư@xã-k.backan.example",
                               M.format(213)),
    "exim-dsn.eml": (Kind.HARD, 205, "5.0.0", "phongnoivu@huyen-e.backan.example",
                     M.format(205)),
    "exim-text-only.eml": (Kind.HARD, 206, "5.1.1", "agency@old-exim.example", M.format(206)),
    "exchange-online-ndr.eml": (Kind.HARD, 207, "5.1.10", "vanthu@sonv.backan.example",
                                M.format(207)),
    "exchange-2003-text.eml": (Kind.HARD, 208, "5.1.1", "vanthu@agency.example", None),
    "gmail-dsn-failure.eml": (Kind.HARD, 209, "5.1.1", "phong.tchc.backan@gmail.com",
                              M.format(209)),
    "gmail-dsn-delay.eml": (Kind.SOFT, 210, "4.4.1", "vanthu@xa-full.backan.example",
                            M.format(210)),
    "qmail-text.eml": (Kind.HARD, 211, "5.1.1", "vanthu@qmail-agency.example", M.format(211)),
    "arf-abuse.eml": (Kind.COMPLAINT, 212, None, "vanthu@isp.example", M.format(212)),
    "arf-required-fields-only.eml": (Kind.COMPLAINT, None, None, None, M.format(213)),
    "autoreply-rfc3834.eml": (Kind.AUTO_REPLY, 214, None, None, M.format(214)),
    "autoreply-exchange-oof.eml": (Kind.AUTO_REPLY, 215, None, None, M.format(215)),
    "autoreply-vietnamese-subject.eml": (Kind.AUTO_REPLY, 214, None, None, None),
    "autoreply-x-autoreply.eml": (Kind.AUTO_REPLY, 214, None, None, None),
    "unsubscribe-mailto.eml": (Kind.UNSUBSCRIBE, None, None, None, None),
    "unsubscribe-forged-tag.eml": (Kind.UNKNOWN, None, None, None, None),
    "human-reply.eml": (Kind.UNKNOWN, None, None, None, M.format(216)),
}


def _read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus(name: str) -> None:
    kind, delivery, status, recipient, message_id = EXPECTED[name]
    report = classify(_read(name), VERP)
    assert report.kind is kind, report
    assert report.delivery_id == delivery
    assert report.status == status
    assert (report.recipients[0].address if report.recipients else None) == recipient
    assert report.message_id == message_id


def test_multi_recipient_dsn_keeps_each_recipients_fields() -> None:
    report = classify(_read("rfc3464-multi-recipient.eml"), VERP)
    assert [(r.action, r.status) for r in report.recipients] == [
        ("failed", "5.0.0"), ("delayed", "4.0.0"), ("failed", "5.0.0")]
    assert report.recipients[0].diagnostic is not None
    assert "not a registered gateway user" in report.recipients[0].diagnostic


def test_exchange_ndr_keeps_the_resolver_diagnostic() -> None:
    report = classify(_read("exchange-online-ndr.eml"), VERP)
    assert report.recipients[0].original == "vanthu@sonv.backan.example"
    assert "RESOLVER.ADR.RecipientNotFound" in (report.recipients[0].diagnostic or "")


def test_x_failed_recipients_are_read() -> None:
    assert classify(_read("gmail-dsn-failure.eml"), VERP).failed_recipients == (
        "phong.tchc.backan@gmail.com",)


def test_complaints_name_the_subscriber_through_the_returned_list_unsubscribe() -> None:
    assert classify(_read("arf-abuse.eml"), VERP).subscriber == UnsubscribeTag(11, 2)
    report = classify(_read("arf-required-fields-only.eml"), VERP)
    assert (report.subscriber, report.feedback_type) == (UnsubscribeTag(12, 0), "abuse")


def test_an_unsubscribe_request_names_the_signed_subscriber_not_the_from() -> None:
    report = classify(_read("unsubscribe-mailto.eml"), VERP)
    assert report.subscriber == UnsubscribeTag(9, 0)
    forged = classify(_read("unsubscribe-forged-tag.eml"), VERP)
    assert forged.subscriber is None and forged.kind is Kind.UNKNOWN


def test_a_client_that_marks_its_unsubscribe_mail_auto_submitted_still_unsubscribes() -> None:
    raw = b"Auto-Submitted: auto-generated\n" + _read("unsubscribe-mailto.eml")
    assert classify(raw, VERP).kind is Kind.UNSUBSCRIBE


def test_not_spam_feedback_is_not_a_complaint() -> None:
    raw = _read("arf-abuse.eml").replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam")
    report = classify(raw, VERP)
    assert (report.kind, report.feedback_type) == (Kind.UNKNOWN, "not-spam")


def test_without_the_secret_no_tag_is_trusted() -> None:
    other = Verp("bounces@bounce.test", "another-secret")
    for name in ("postfix-unknown-user.eml", "unsubscribe-mailto.eml", "arf-abuse.eml"):
        report = classify(_read(name), other)
        assert (report.delivery_id, report.subscriber) == (None, None)
    assert classify(_read("unsubscribe-mailto.eml"), other).kind is Kind.UNKNOWN
    assert classify(_read("postfix-unknown-user.eml"), None).kind is Kind.HARD


def test_a_relay_that_upper_cases_the_local_part_changes_nothing() -> None:
    raw = _read("postfix-unknown-user.eml")
    tag = VERP.envelope_sender(101).split("@")[0].encode()
    report = classify(raw.replace(tag, tag.upper()), VERP)
    assert (report.kind, report.delivery_id) == (Kind.HARD, 101)


def test_the_envelope_recipient_given_by_the_mta_names_the_delivery() -> None:
    raw = _read("exim-text-only.eml").replace(b"bounces+206-tohfirhqvz", b"bounces")
    assert classify(raw, VERP).delivery_id is None
    report = classify(raw, VERP, envelope_recipient=VERP.envelope_sender(206))
    assert report.delivery_id == 206


def test_the_key_ignores_what_delivery_adds_and_line_ends() -> None:
    raw = _read("postfix-unknown-user.eml")
    redelivered = b"Received: from elsewhere; Fri, 4 Dec 2026\nDelivered-To: x@y\n" + raw
    assert message_key(redelivered) == message_key(raw)
    assert message_key(raw.replace(b"\n", b"\r\n")) == message_key(raw)
    assert message_key(raw) != message_key(_read("postfix-unknown-user-headers-only.eml"))
    assert classify(raw, VERP).key == message_key(raw)


# Hostile input: refused or classified, never an exception.

def test_a_20_mb_message_is_refused_before_parsing() -> None:
    raw = _read("postfix-unknown-user.eml") + b"x" * (20 * 1024 * 1024)
    report = classify(raw, VERP)
    assert (report.kind, report.reason, report.size) == (Kind.UNKNOWN, "oversize", len(raw))


def test_read_message_takes_one_byte_past_the_limit_and_drains_the_rest() -> None:
    stream = io.BytesIO(b"a" * 5000)
    assert len(read_message(stream, limit=1000)) == 1001
    assert stream.read() == b""


@pytest.mark.parametrize("raw", [
    b"",
    b"\x00\xff\xfe" * 100,
    b"Content-Type: multipart/report; report-type=delivery-status\n\nno boundary at all",
    b"Content-Type: multipart/report; boundary=\"x\"\n\n--x\nContent-Type: message/delivery-status"
    b"\n\nAction: failed\nStatus: 5.9.999999\n",  # unterminated, an out-of-range status
    b"Content-Type: message/delivery-status\n\n\n\n",
    b"Subject: =?utf-8?q?=E1=BA?= =?x-unknown?b?////?=\nFrom: MAILER-DAEMON@x\n\nUndeliverable",
    b"From: MAILER-DAEMON@x\nContent-Type: text/plain; charset=x-no-such-charset\n\n\xff\xfe",
    b"Content-Type: message/rfc822\n\n" * 50,
    b"Final-Recipient: rfc822;\nAction: failed\n",
    b"Content-Type: multipart/mixed; boundary=a\n\n" + b"--a\nContent-Type: multipart/mixed;"
    b" boundary=a\n\n" * 2000,
], ids=["empty", "binary", "no-boundary", "unterminated", "empty-status", "bad-words",
        "bad-charset", "nested-rfc822", "headers-only", "deep-nesting"])
def test_broken_mime_is_classified_without_raising(raw: bytes) -> None:
    report = classify(raw, VERP)
    assert report.kind in Kind


def test_a_dsn_in_an_unterminated_report_is_still_read() -> None:
    raw = _read("postfix-unknown-user.eml")
    cut = raw[: raw.index(b"Content-Description: Undelivered Message")]
    report = classify(cut, VERP)
    assert (report.kind, report.delivery_id) == (Kind.HARD, 101)


def test_a_failing_flufl_detector_does_not_lose_the_message() -> None:
    # Found by the property test below: a CR inside a header hides From:, and flufl.bounce
    # 6.0's Yale detector then raises IndexError; the VERP tag must survive it.
    raw = _read("exim-text-only.eml")
    at = raw.index(b"X-Failed-Recipients:") + len(b"X-Failed-Recipients:")
    report = classify(raw[:at] + b"\x80\r" + raw[at + 2:], VERP)
    assert (report.kind, report.reason, report.delivery_id) == (
        Kind.UNKNOWN, "bounce-unread", 206)


def test_a_forged_tag_in_a_dsn_names_no_delivery() -> None:
    raw = _read("postfix-unknown-user.eml")
    tag = VERP.envelope_sender(101).split("@")[0].split("-")[-1].encode()
    report = classify(raw.replace(tag, b"a" * len(tag)), VERP)
    assert report.kind is Kind.HARD and report.delivery_id is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    assert classify(raw, VERP).kind in Kind


_CORPUS_SAMPLE = [_read(n) for n in ("postfix-unknown-user.eml", "exchange-online-ndr.eml",
                                     "arf-abuse.eml", "exim-text-only.eml")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_CORPUS_SAMPLE), st.integers(0, 10_000), st.binary(max_size=64))
def test_corrupted_corpus_messages_never_raise(raw: bytes, at: int, junk: bytes) -> None:
    at %= len(raw)
    assert classify(raw[:at] + junk + raw[at + len(junk):], VERP).kind in Kind

