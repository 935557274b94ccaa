"""Publication-to-inbox latency of an immediate subscriber, at several poll intervals.

For each interval, side by side in one run: a real `syndicator run` daemon (its own directory,
the demo's SQLite portal and state), a real SMTP server (aiosmtpd on 127.0.0.1) and a writer
that publishes bulletins into the portal database at random moments (gaps drawn uniformly in
[0, 2 x --mean-gap] s, so publications fall at every phase of the poll). A bulletin's latency
is from the portal's commit to the SMTP server's receipt of the first immediate message
naming it.

Usage: .venv/bin/python bench/latency_bench.py [--intervals 5,10,15] [--samples 60]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.daemon import Daemon, clean_env, cli, free_port  # noqa: E402
from tests.integration.smtp_server import FaultyHandler, SmtpServer  # noqa: E402
from tests.portal import Portal  # noqa: E402

IMMEDIATE = "vanphong@ubnd-babe.example"  # the demo's immediate subscriber


@dataclass
class Inbox(FaultyHandler):
    """Keeps when each message to the immediate subscriber arrived, with its text."""

    arrived: list[tuple[float, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        when = time.time()
        if IMMEDIATE in [r.lower() for r in envelope.rcpt_tos]:
            text = await asyncio.to_thread(_text, envelope.original_content or envelope.content)
            with self.lock:
                self.arrived.append((when, text))
        return reply

    def first_arrival(self, title: str) -> float | None:
        with self.lock:
            return next((t for t, text in self.arrived if title in text), None)


def _text(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = [str(msg["Subject"])]
    parts += [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
    return "\n".join(parts)


@dataclass
class Result:
    interval: int
    latencies: list[float] = field(default_factory=list)
    lost: int = 0


def measure(interval: int, samples: int, mean_gap: float, seed: int) -> Result:
    rng = random.Random(seed)
    result = Result(interval)
    inbox = Inbox()
    with tempfile.TemporaryDirectory(prefix=f"latency-{interval}s-") as tmp, \
            SmtpServer(inbox) as smtp:
        cwd = Path(tmp)
        env = clean_env(http__port=str(free_port()), mail__transport="smtp",
                        smtp__host="127.0.0.1", smtp__port=str(smtp.port), smtp__security="none",
                        poll__interval_seconds=str(interval), log__level="warning")
        for verb in (("db", "upgrade"), ("demo",)):
            done = cli(cwd, env, *verb)
            assert done.returncode == 0, done.stderr
        daemon = Daemon(cwd, env, int(env["SYNDICATOR_HTTP__PORT"])).start()
        try:
            daemon.wait_ready()
            daemon.wait_for("the demo's immediate message", lambda: bool(inbox.arrived), 120)
            portal = Portal(f"sqlite:///{cwd / 'var' / 'portal.db'}")
            published: dict[str, float] = {}
            for k in range(samples):
                time.sleep(rng.uniform(0, 2 * mean_gap))
                title = f"Bản tin đo độ trễ số {k} (khoảng {interval} giây)"
                portal.insert(90_000 + k, title=title, category="Công chức, viên chức",
                              published_at=datetime.now(UTC))
                published[title] = time.time()
            deadline = time.monotonic() + 3 * interval + 60
            while time.monotonic() < deadline and any(
                    inbox.first_arrival(t) is None for t in published):
                time.sleep(0.5)
            for title, at in published.items():
                arrived = inbox.first_arrival(title)
                if arrived is None:
                    result.lost += 1
                else:
                    result.latencies.append(arrived - at)
            portal.engine.dispose()
            assert daemon.stop()[0] == 0
        finally:
            daemon.kill()
    return result


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--intervals", default="5,10,15")
    ap.add_argument("--samples", type=int, default=60)
    ap.add_argument("--mean-gap", type=float, default=5.0,
                    help="mean seconds between two publications")
    ap.add_argument("--serial", action="store_true", help="one interval after the other")
    args = ap.parse_args()
    intervals = [int(x) for x in args.intervals.split(",")]
    results: dict[int, Result] = {}

    def one(i: int) -> None:
        results[i] = measure(i, args.samples, args.mean_gap, seed=i)

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in intervals]
    for t in threads:
        t.start()
        if args.serial:
            t.join()
    for t in threads:
        t.join()
    how = "one after the other" if args.serial else "side by side"
    print(f"{args.samples} publications per interval at random moments (mean gap "
          f"{args.mean_gap:g} s), daemons {how}, {time.monotonic() - started:.0f} s in all")
    print("| poll interval | p50 | p95 | max | mean | lost |")
    print("|---|---|---|---|---|---|")
    for i in intervals:
        r = results[i]
        lat = r.latencies
        print(f"| {i} s | {percentile(lat, 50):.1f} s | {percentile(lat, 95):.1f} s | "
              f"{max(lat):.1f} s | {statistics.mean(lat):.1f} s | {r.lost} |")


if __name__ == "__main__":
    main()
