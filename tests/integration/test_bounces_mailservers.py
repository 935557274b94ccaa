"""Real Postfix returns a message; real Dovecot holds the DSN; imap.py reads it over TLS."""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from syndicator.bounces import Kind, Returned, classify
from syndicator.bounces.imap import Mailbox, MailboxError
from syndicator.config.bounces import BounceImapSettings
from tests.support.mailservers import BOUNCE_USER, MailServers, free_port, running
from tests.support.returned_mail import VERP, send

LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def servers() -> Iterator[MailServers]:
    with running(remote=free_port()) as s:  # remote.test: nothing listens, Postfix retries
        yield s


def _mailbox(servers: MailServers, *, starttls: bool = False, ca: Path | None = None,
             url: str | None = None, batch: int = 200) -> Mailbox:
    settings = BounceImapSettings(url=SecretStr(url or servers.imap_url(starttls)),
                                  trusted_ca=ca or servers.ca_file, timeout=10, batch=batch)
    return Mailbox(settings, limit=LIMIT)


def _read_all(mailbox: Mailbox) -> list[Returned]:
    found: list[Returned] = []
    mailbox.drain(lambda raw: found.append(classify(raw, VERP, limit=LIMIT)))
    return found


def _count(servers: MailServers, folder: str) -> int:
    context = ssl.create_default_context(cafile=str(servers.ca_file))
    with imaplib.IMAP4_SSL("127.0.0.1", servers.imaps_port, ssl_context=context) as conn:
        conn.login(BOUNCE_USER, servers.password)
        typ, data = conn.select(f'"{folder}"', readonly=True)
        return int(data[0] or 0) if typ == "OK" else 0


def test_postfix_bounce_read_over_imaps_names_the_delivery(servers: MailServers) -> None:
    before = len(list((servers.maildir / "new").iterdir()))
    send(servers, 4242, "no-such-agency@relay.test")
    servers.wait_for_mail(before + 1)
    found = _read_all(_mailbox(servers))
    hard = [r for r in found if r.delivery_id == 4242]
    assert len(hard) == 1, found
    report = hard[0]
    assert report.kind is Kind.HARD and report.reason == "dsn"
    assert report.status == "5.1.1"
    assert report.recipients[0].address == "no-such-agency@relay.test"
    assert report.message_id == "<delivery-4242@syndicator.test>"
    assert report.subscriber is not None and report.subscriber.subscriber_id == 7
    # Read once: the mailbox is empty and the DSN sits in the processed folder.
    assert _read_all(_mailbox(servers)) == []
    assert _count(servers, "INBOX") == 0
    assert _count(servers, "Processed") >= 1


def test_starttls_reads_the_same_way(servers: MailServers) -> None:
    before = len(list((servers.maildir / "new").iterdir()))
    send(servers, 4343, "nobody-here@relay.test")
    servers.wait_for_mail(before + 1)
    found = _read_all(_mailbox(servers, starttls=True))
    assert [(r.kind, r.delivery_id) for r in found] == [(Kind.HARD, 4343)]


def test_a_delayed_delivery_is_soft(servers: MailServers) -> None:
    before = len(list((servers.maildir / "new").iterdir()))
    send(servers, 4444, "agency@remote.test")
    servers.wait_for_mail(before + 1, timeout=60)
    found = [r for r in _read_all(_mailbox(servers)) if r.delivery_id == 4444]
    assert found and {r.kind for r in found} == {Kind.SOFT}
    assert found[0].recipients[0].action == "delayed"


def test_a_crash_in_the_callback_leaves_the_message_for_the_next_round(
        servers: MailServers) -> None:
    _read_all(_mailbox(servers))  # start from an empty mailbox
    before = len(list((servers.maildir / "new").iterdir()))
    send(servers, 4545, "ghost@relay.test")
    servers.wait_for_mail(before + 1)
    seen: list[bytes] = []

    def crash(raw: bytes) -> None:
        seen.append(raw)
        raise RuntimeError("killed between reading and recording")

    with pytest.raises(RuntimeError):
        _mailbox(servers).drain(crash)
    again = _read_all(_mailbox(servers))
    assert [r.delivery_id for r in again] == [4545]
    assert again[0].key == classify(seen[0], VERP).key  # same message, same key: one effect


def test_the_callbacks_own_errors_are_not_taken_for_the_mailboxs(
        servers: MailServers) -> None:
    _read_all(_mailbox(servers))
    before = len(list((servers.maildir / "new").iterdir()))
    send(servers, 4546, "ghost@relay.test")
    servers.wait_for_mail(before + 1)

    def disk_full(raw: bytes) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as caught:
        _mailbox(servers).drain(disk_full)
    assert not isinstance(caught.value, MailboxError)
    assert [r.delivery_id for r in _read_all(_mailbox(servers))] == [4546]


def test_rounds_take_at_most_a_batch(servers: MailServers) -> None:
    _read_all(_mailbox(servers))
    before = len(list((servers.maildir / "new").iterdir()))
    for n in (4601, 4602, 4603):
        send(servers, n, f"ghost{n}@relay.test")
    servers.wait_for_mail(before + 3)
    mailbox = _mailbox(servers, batch=2)
    first: list[bytes] = []
    result = mailbox.drain(first.append)
    assert (result.handled, result.left) == (2, True)
    rest: list[bytes] = []
    assert mailbox.drain(rest.append).handled == 1


def test_an_untrusted_certificate_is_refused(servers: MailServers, tmp_path: Path) -> None:
    other = tmp_path / "other-ca.pem"
    import trustme
    trustme.CA().cert_pem.write_to_path(str(other))
    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED|certificate verify"):
        _mailbox(servers, ca=other).drain(lambda raw: None)


def test_a_wrong_password_fails_without_showing_it(servers: MailServers) -> None:
    url = f"imaps://{BOUNCE_USER}:not-the-Pa55word@127.0.0.1:{servers.imaps_port}/INBOX"
    with pytest.raises(MailboxError) as caught:
        _mailbox(servers, url=url).drain(lambda raw: None)
    assert "not-the-Pa55word" not in str(caught.value)
    assert "AUTHENTICATIONFAILED" in str(caught.value) or "Authentication" in str(caught.value)


@pytest.mark.parametrize("capabilities", [b"IMAP4rev1 UIDPLUS", b"IMAP4rev1"])
def test_servers_without_move_get_copy_delete_expunge(
        servers: MailServers, monkeypatch: pytest.MonkeyPatch, capabilities: bytes) -> None:
    _read_all(_mailbox(servers))
    before = len(list((servers.maildir / "new").iterdir()))
    processed = _count(servers, "Processed")
    send(servers, 4700, "ghost4700@relay.test")
    servers.wait_for_mail(before + 1)
    monkeypatch.setattr(imaplib.IMAP4, "capability", lambda self: ("OK", [capabilities]))
    assert [r.delivery_id for r in _read_all(_mailbox(servers))] == [4700]
    assert (_count(servers, "INBOX"), _count(servers, "Processed")) == (0, processed + 1)
