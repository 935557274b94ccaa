"""Reading returned mail: classification per message, and draining a real IMAP mailbox.

    .venv/bin/python bench/bounces_bench.py [--seconds 2] [--imap 200]

Classification: each corpus file of tests/data/returned/ classified repeatedly on one core,
side by side with the stdlib parse alone (what any reader pays), and one DSN carrying a
9 MB original (under the 10 MB default limit). IMAP (root, with postfix and dovecot-imapd
installed): Postfix bounces --imap N messages into a Dovecot Maildir, then one Mailbox.drain
over IMAPS fetches, classifies and moves them all.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr  # noqa: E402

from syndicator.bounces import classify  # noqa: E402
from syndicator.bounces.imap import Mailbox  # noqa: E402
from syndicator.config.bounces import BounceImapSettings  # noqa: E402
from tests.support import mailservers  # noqa: E402
from tests.support.returned_mail import VERP, send  # noqa: E402

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
                                      ca_file=servers.ca_file, batch=count)
        found: list[object] = []
        start = time.perf_counter()
        Mailbox(settings, limit=10 * 1024 * 1024).drain(
            lambda raw: found.append(classify(raw, VERP)))
        elapsed = time.perf_counter() - start
    print(f"IMAP drain over TLS (FETCH + classify + MOVE each): {len(found)} messages in "
          f"{elapsed:.2f} s = {len(found) / elapsed:,.0f} messages/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--imap", type=int, default=200)
    args = parser.parse_args()
    classification(args.seconds)
    imap(args.imap)


if __name__ == "__main__":
    main()
