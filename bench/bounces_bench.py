"""Reading returned mail: classification per message, recording it once, and draining a real
IMAP mailbox.

    .venv/bin/python bench/bounces_bench.py [--seconds 2] [--imap 200] [--intake 500]

Classification: each corpus file of tests/data/returned/ classified repeatedly on one core,
side by side with the stdlib parse alone (what any reader pays), and one DSN carrying a
9 MB original (under the 10 MB default limit). IMAP (root, with postfix and dovecot-imapd
installed): Postfix bounces --imap N messages into a Dovecot Maildir, then one Mailbox.drain
over IMAPS fetches, classifies and moves them all. Intake: --intake N distinct Postfix DSNs,
each about one accepted delivery, recorded and applied (`Intake.take`: classify, tie, mark
the delivery, count) on SQLite and on PostgreSQL (when reachable), side by side with
classify alone; then the same N again (each found recorded: the duplicate path).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from syndicator.bounces import classify  # noqa: E402
from syndicator.bounces.imap import Mailbox  # noqa: E402
from syndicator.bounces.intake import Intake  # noqa: E402
from syndicator.config.bounces import BounceImapSettings  # noqa: E402
from syndicator.config.databases import create_engine  # noqa: E402
from syndicator.config.settings import Settings  # noqa: E402
from syndicator.state.db import upgrade  # noqa: E402
from syndicator.state.schema import deliveries, subscribers  # noqa: E402
from syndicator.telemetry import logs  # noqa: E402
from tests.support import mailservers  # noqa: E402
from tests.support.returned_mail import CORPUS_SECURITY, VERP, postfix_dsn, send  # noqa: E402

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "returned"


def per_second(work: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - start)


def classification(seconds: float) -> None:
    ours, parse_only = [], []
    for path in sorted(CORPUS.glob("*.eml")):
        raw = path.read_bytes()
        ours.append(per_second(lambda raw=raw: classify(raw, VERP), seconds / 10))
        parse_only.append(per_second(
            lambda raw=raw: BytesParser(policy=compat32).parsebytes(raw), seconds / 10))
    print(f"corpus ({len(ours)} files), messages/s, median: classify "
          f"{statistics.median(ours):,.0f}, stdlib parse alone "
          f"{statistics.median(parse_only):,.0f}, ratio "
          f"{statistics.median(parse_only) / statistics.median(ours):.1f}x")
    print(f"  slowest file {min(ours):,.0f}/s, fastest {max(ours):,.0f}/s")
    raw = (CORPUS / "postfix-unknown-user.eml").read_bytes()
    big = raw[:-60] + (b"A" * 76 + b"\n") * (9_000_000 // 77) + raw[-60:]
    rate = per_second(lambda: classify(big, VERP), seconds)
    base = per_second(lambda: BytesParser(policy=compat32).parsebytes(big), seconds)
    print(f"DSN with a 9 MB original: classify {1000 / rate:.0f} ms, "
          f"parse alone {1000 / base:.0f} ms")


def imap(count: int) -> None:
    if mailservers.missing():
        print(f"IMAP: skipped ({mailservers.missing()})")
        return
    with mailservers.running() as servers:
        for n in range(count):
            send(servers, 10_000 + n, f"ghost{n}@relay.test")
        servers.wait_for_mail(count, timeout=300)
        settings = BounceImapSettings(url=SecretStr(servers.imap_url()),
                                      trusted_ca=servers.ca_file, batch=count)
        found: list[object] = []
        start = time.perf_counter()
        Mailbox(settings, limit=10 * 1024 * 1024).drain(
            lambda raw: found.append(classify(raw, VERP)))
        elapsed = time.perf_counter() - start
    print(f"IMAP drain over TLS (FETCH + classify + MOVE each): {len(found)} messages in "
          f"{elapsed:.2f} s = {len(found) / elapsed:,.0f} messages/s")


def _seeded(url: str, count: int) -> tuple[sa.Engine, list[bytes]]:
    """A migrated state with `count` subscribers, one accepted delivery each, and a DSN each."""
    engine = create_engine(url, "database.url")
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(subscribers.insert(), [dict(
            id=i + 1, email=f"agency{i}@example.gov.vn", email_key=f"agency{i}@example.gov.vn",
            frequency="daily", categories=[], status="active", consent_source="bench",
            created_at=now, updated_at=now) for i in range(count)])
        conn.execute(deliveries.insert(), [dict(
            id=i + 1, kind="manage_link", subscriber_id=i + 1, status="sent", attempts=1,
            last_code=250, message_id=f"<d{i + 1}@bench>", next_attempt_at=now,
            created_at=now, updated_at=now, sent_at=now) for i in range(count)])
    raws = [postfix_dsn(i + 1, f"<d{i + 1}@bench>", f"agency{i}@example.gov.vn",
                        queue=f"B{i}", subscriber=None) for i in range(count)]
    return engine, raws


def _intake_on(name: str, url: str, count: int) -> None:
    engine, raws = _seeded(url, count)
    settings = Settings(security=CORPUS_SECURITY,
                        bounces={"return_path": "bounces@bounce.test"})
    reader = Intake.configured(settings, engine)
    start = time.perf_counter()
    for raw in raws:
        classify(raw, VERP)
    classify_only = time.perf_counter() - start
    start = time.perf_counter()
    effects = [reader.take(raw).effect for raw in raws]
    recorded = time.perf_counter() - start
    start = time.perf_counter()
    again = [reader.take(raw).effect for raw in raws]
    duplicate = time.perf_counter() - start
    assert set(effects) == {"counted"} and set(again) == {"duplicate"}, (effects, again)
    engine.dispose()
    print(f"intake on {name}, {count} DSNs: recorded and applied {count / recorded:,.0f}/s "
          f"({1000 * recorded / count:.1f} ms each; classify alone "
          f"{1000 * classify_only / count:.1f} ms, {recorded / classify_only:.1f}x); "
          f"read again (duplicates) {count / duplicate:,.0f}/s")


def intake(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _intake_on("SQLite", f"sqlite:///{tmp}/state.db", count)
    name = f"syn_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(POSTGRES, "bench", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as exc:
        print(f"intake on PostgreSQL: skipped ({str(exc.orig).splitlines()[0]})")
        return
    try:
        _intake_on("PostgreSQL", sa.make_url(POSTGRES).set(database=name)
                   .render_as_string(hide_password=False), count)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--imap", type=int, default=200)
    parser.add_argument("--intake", type=int, default=500)
    args = parser.parse_args()
    logs.configure("warning")  # one line per message read would be timed too
    classification(args.seconds)
    intake(args.intake)
    imap(args.imap)


if __name__ == "__main__":
    main()
