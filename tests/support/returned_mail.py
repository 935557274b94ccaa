"""Making Postfix return mail: a digest-like message with a VERP envelope sender, sent so that
Postfix bounces it, warns of its delay, or relays a remote server's refusal.

`python -m tests.support.returned_mail DIR` writes the DSNs the real Postfix writes into DIR
(the corpus files `postfix-*.eml` of tests/data/returned/ were made so).
"""

from __future__ import annotations

import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa
from pydantic import SecretStr

from syndicator.compose.verp import DeliveryTag, Verp
from syndicator.config.settings import SecuritySettings
from tests.integration.smtp_server import FaultyHandler, SmtpServer
from tests.support.mailservers import MailServers, free_port, running

# The corpus's VERP tags (tests/data/returned) were signed with this key before keys shorter
# than 32 bytes were refused in configuration (ADR 016); tests that read the corpus give it
# through CORPUS_SECURITY (built without the length rule) or keep it in the state database,
# where a generated key lives.
SECRET = "returned-mail-test-secret"
CORPUS_SECURITY = SecuritySettings.model_construct(secret_key=SecretStr(SECRET))
VERP = Verp("bounces@bounce.test", SECRET)
CORPUS = Path(__file__).resolve().parent.parent / "data" / "returned"


def keep_secret(engine: sa.Engine) -> None:
    """Keep SECRET as the state database's generated key (for processes started apart)."""
    from syndicator.state.schema import state_values

    with engine.begin() as conn:
        conn.execute(state_values.insert().values(name="security.secret_key", value=SECRET,
                                                  updated_at=sa.func.now()))


def corpus(name: str, **swaps: str) -> bytes:
    """A corpus message with strings replaced (`old=new` pairs given as a dict's items)."""
    raw = (CORPUS / name).read_bytes()
    for old, new in swaps.items():
        raw = raw.replace(old.encode(), new.encode())
    return raw


def postfix_dsn(delivery_id: int | None, message_id: str, recipient: str, *, queue: str = "Q1",
                subscriber: tuple[int, int] | None = (7, 0)) -> bytes:
    """Postfix's "unknown user" DSN (captured) made about one of our deliveries: its VERP tag
    (None: the relay rewrote the envelope, no tag left), our Message-ID, the recipient, and
    a queue id of its own (a different `queue`: a different DSN, with another key)."""
    sender = VERP.envelope_sender(delivery_id) if delivery_id is not None else \
        "bounces@bounce.test"
    mailto = (f"<mailto:{VERP.unsubscribe_address(*subscriber)}>" if subscriber
              else "<mailto:unsubscribe@sonoivu.backan.example>")
    return corpus("postfix-unknown-user.eml", **{
        VERP.envelope_sender(101): sender, "<delivery-101@syndicator.test>": message_id,
        "ghost@relay.test": recipient, "EEB1120CCB4": f"{queue}X", "E85A020CC63": f"{queue}Y",
        f"<mailto:{VERP.unsubscribe_address(7, 0)}>": mailto})


def digest(delivery_id: int, to: str, subscriber: tuple[int, int] = (7, 0)) -> EmailMessage:
    """A small message shaped like a digest: the headers a DSN returns are what matter."""
    msg = EmailMessage()
    msg["From"] = "Sở Nội vụ tỉnh Bắc Kạn <bantin@sonoivu.backan.example>"
    msg["To"] = to
    msg["Subject"] = "Bản tin ngày 04/12/2026"
    msg["Message-ID"] = f"<delivery-{delivery_id}@syndicator.test>"
    msg["List-Unsubscribe"] = (f"<https://bantin.example/unsubscribe/t{delivery_id}>, "
                               f"<mailto:{VERP.unsubscribe_address(*subscriber)}>")
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content("Bản tin: các văn bản mới của Sở Nội vụ.\n")
    return msg


def send(servers: MailServers, delivery_id: int, to: str, *, headers_only: bool = False) -> None:
    """Through Postfix's SMTP port, with bounces+TAG as the envelope sender."""
    with smtplib.SMTP("127.0.0.1", servers.smtp_port, timeout=30) as smtp:
        smtp.sendmail(VERP.envelope_sender(delivery_id), [to],
                      digest(delivery_id, to).as_bytes(),
                      mail_options=["RET=HDRS"] if headers_only else [],
                      rcpt_options=["NOTIFY=FAILURE,DELAY"])


def capture(target: Path) -> None:
    """One DSN of each kind Postfix writes, into `target`."""
    sink = SmtpServer(FaultyHandler(plan={"ghost@remote.test": ["550"]}))
    with sink, running(remote=sink.port) as servers:
        send(servers, 101, "ghost@relay.test")
        send(servers, 102, "ghost@relay.test", headers_only=True)
        send(servers, 103, "ghost@remote.test")
        found = [p.read_bytes() for p in servers.wait_for_mail(3)]
    with running(remote=free_port()) as servers:  # nothing listens there: Postfix retries
        send(servers, 104, "agency@remote.test")
        found += [p.read_bytes() for p in servers.wait_for_mail(1, timeout=60)]
    names = {101: "postfix-unknown-user.eml", 102: "postfix-unknown-user-headers-only.eml",
             103: "postfix-relayed-550.eml", 104: "postfix-delayed.eml"}
    for raw in found:
        tags = VERP.scan(raw.decode("latin-1"))
        number = next(t.delivery_id for t in tags if isinstance(t, DeliveryTag))
        (target / names[number]).write_bytes(raw)


if __name__ == "__main__":
    capture(Path(sys.argv[1]))
