"""Delivery benchmark: a full digest run into a loopback SMTP sink, beside bare aiosmtplib.

    .venv/bin/python bench/delivery_bench.py [--subscribers 10000] [--bulletins 20]
        [--connections 8] [--db URL] [--memory-subscribers 100000]

Phase 1 creates the run (one delivery per subscriber) and delivers it through the engine
(claims, composer, SMTP transport, recording). Phase 2 sends as many pre-built messages of the
same size with bare aiosmtplib over the same number of connections to the same sink: an evenly
spaced sample of the engine's own messages across all deliveries (every content group and
variant in proportion), repeated to the same count. Phase 3 measures the peak RSS of a fresh
process that creates a run for --memory-subscribers subscribers and delivers all of it into
the sink.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syndicator.config.databases import create_engine  # noqa: E402
from syndicator.config.settings import Settings  # noqa: E402
from syndicator.delivery import send  # noqa: E402
from syndicator.planning import due  # noqa: E402
from syndicator.state.db import upgrade  # noqa: E402
from syndicator.state.schema import bulletins, deliveries, subscribers  # noqa: E402

UTC = UTC
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
IN_PERIOD = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
CATEGORY_SETS = [[], ["Thông báo"], ["Thi đua - Khen thưởng"], ["Thông báo", "Chuyển đổi số"]]
CATEGORIES = ["Thông báo", "Thi đua - Khen thưởng", "Chuyển đổi số", "Tổ chức bộ máy"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(engine: sa.Engine, n_subscribers: int, n_bulletins: int) -> None:
    from syndicator.models.text import slugify

    body = "<p>" + "Nội dung thông báo của Sở Nội vụ về công tác cán bộ. " * 30 + "</p>"
    with engine.begin() as conn:
        conn.execute(bulletins.insert(), [dict(
            source_id=f"b{i}", title=f"Thông báo số {i}/TB-SNV về việc tuyển dụng công chức",
            summary="<p>Tóm tắt nội dung thông báo tuyển dụng năm 2026.</p>", body_html=body,
            author="Văn phòng Sở", category=CATEGORIES[i % 4],
            category_slug=slugify(CATEGORIES[i % 4]), url=f"https://portal.example/b/{i}",
            published_at=IN_PERIOD, first_seen_at=IN_PERIOD + timedelta(minutes=i),
            changed_at=IN_PERIOD, content_hash=f"h{i}", notify=True, state="public")
            for i in range(n_bulletins)])
        created = datetime(2020, 1, 1, tzinfo=UTC)
        rows = [dict(email=f"unit{i}@xa{i % 100}.backan.gov.vn",
                     email_key=f"unit{i}@xa{i % 100}.backan.gov.vn", name=f"UBND xã số {i}",
                     frequency="daily", categories=CATEGORY_SETS[i % len(CATEGORY_SETS)],
                     text_size="large" if i % 7 == 0 else "standard", status="active",
                     paused=False, consent_source="bench", created_at=created,
                     updated_at=created, confirmed_at=created) for i in range(n_subscribers)]
        for start in range(0, len(rows), 5000):
            conn.execute(subscribers.insert(), rows[start:start + 5000])


def settings_for(port: int, connections: int, db: str) -> Settings:
    return Settings(database={"url": db}, mail={"transport": "smtp"},
                    smtp={"host": "127.0.0.1", "port": port, "security": "none",
                          "timeout": 30, "connections": connections},
                    security={"secret_key": "bench-secret-0123456789abcdef-0123456789"},
                    log={"level": "warning"})


async def bare(port: int, connections: int, messages: list[bytes]) -> float:
    """Pre-built messages, round-robin over `connections` clients; returns seconds."""
    clients = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
               for _ in range(connections)]
    await asyncio.gather(*(c.connect() for c in clients))
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for m in messages:
        queue.put_nowait(m)

    async def worker(c: aiosmtplib.SMTP) -> None:
        while not queue.empty():
            await c.sendmail("bantin@sonoivu.backan.example", ["x@backan.gov.vn"],
                             queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    seconds = time.perf_counter() - started
    await asyncio.gather(*(c.quit() for c in clients))
    return seconds


def sample_messages(engine: sa.Engine, settings: Settings, count: int,
                    size: int = 200) -> list[bytes]:
    """`size` of the engine's messages, evenly spaced over all deliveries, repeated to `count`."""
    from syndicator.delivery.prepare import Preparer
    from syndicator.state.outbox import Claimed

    with engine.connect() as conn:
        ids = list(conn.scalars(sa.select(deliveries.c.id).order_by(deliveries.c.id)))
        picked = ids[::max(1, len(ids) // size)][:size]
        rows = conn.execute(sa.select(deliveries).where(deliveries.c.id.in_(picked))).all()
        renderer = Preparer(settings, engine)
        claims = [Claimed(r.id, r.run_id, r.subscriber_id, r.content_id, 1, r.message_id)
                  for r in rows]
        built = [p.data for p in renderer.prepare(conn, claims) if p.data]
    return [built[i % len(built)] for i in range(count)]


def memory_child(n: int, db: str, seed_only: bool, port: int) -> None:
    engine = create_engine(db, "database.url")
    if seed_only:
        upgrade(engine)
        seed(engine, n, 20)
        return
    settings = settings_for(port, 8, db)
    started = time.perf_counter()
    run = due.run_digest(settings, engine, "daily", NOW)
    created = time.perf_counter() - started
    after_create = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = asyncio.run(send.deliver_due(settings, engine, asyncio.Event()))
    sent_s = time.perf_counter() - started - created
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{run.deliveries} {after_create / 1024:.0f} {created:.1f} {report.sent} "
          f"{peak / 1024:.0f} {sent_s:.1f}")


def memory(n: int, db: str, port: int) -> None:
    """Peak RSS of a fresh process that creates a run for n subscribers, then delivers it."""
    cmd = [sys.executable, __file__, "--memory-child", str(n), "--db", db, "--port", str(port)]
    subprocess.run([*cmd, "--seed-only"], check=True)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    print(f"run creation, {out[0]} deliveries: {out[2]} s, peak RSS {out[1]} MB")
    print(f"whole run, {out[3]} messages sent in {out[5]} s: peak RSS {out[4]} MB")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--subscribers", type=int, default=10_000)
    p.add_argument("--bulletins", type=int, default=20)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--db", default=None, help="state database URL (default: a fresh SQLite file)")
    p.add_argument("--memory-subscribers", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    from syndicator.telemetry import logs

    logs.configure("warning", "console")
    tmp = Path(tempfile.mkdtemp(prefix="syn-bench-"))
    db = args.db or f"sqlite:///{tmp / 'state.db'}"
    if args.memory_child:
        memory_child(args.memory_child, db, args.seed_only, args.port)
        return
    port = free_port()
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench/smtp_sink.py"), str(port)])
    try:
        time.sleep(0.5)
        if args.rounds:
            run_bench(args, db, port, tmp)
        if args.memory_subscribers:
            memory(args.memory_subscribers, f"sqlite:///{tmp / 'memory.db'}", port)
    finally:
        sink.terminate()
        sink.wait()


def run_bench(args: argparse.Namespace, db: str, port: int, tmp: Path) -> None:
    """Alternate bare and engine rounds: the machine's load drifts, a pair shares it."""
    engine = create_engine(db, "database.url")
    upgrade(engine)
    seed(engine, args.subscribers, args.bulletins)
    settings = settings_for(port, args.connections, db)
    t0 = time.perf_counter()
    run = due.run_digest(settings, engine, "daily", NOW)
    print(f"state db: {engine.dialect.name}; sink: bench/smtp_sink.py (asyncio, separate process)")
    print(f"run creation: {run.deliveries} deliveries in {time.perf_counter() - t0:.2f} s")
    messages: list[bytes] = []
    ratios = []
    for round_ in range(1, args.rounds + 1):
        if round_ > 1:
            with engine.begin() as conn:
                conn.execute(deliveries.update().values(status="pending", attempts=0))
        messages = messages or sample_messages(engine, settings, run.deliveries)
        bare_first = round_ % 2 == 0  # alternate the order: load drifts on a shared machine
        if bare_first:
            bare_s = asyncio.run(bare(port, args.connections, messages))
        t1 = time.perf_counter()
        report = asyncio.run(send.deliver_due(settings, engine, asyncio.Event()))
        engine_s = time.perf_counter() - t1
        assert report.sent == run.deliveries, report
        if not bare_first:
            bare_s = asyncio.run(bare(port, args.connections, messages))
        size = sum(map(len, messages)) / len(messages)  # the sample's: the engine's mix
        ratios.append(bare_s / engine_s)
        print(f"round {round_}: engine {report.sent} messages (avg {size / 1024:.1f} KB) in "
              f"{engine_s:.2f} s = {report.sent / engine_s:.0f}/s; bare aiosmtplib "
              f"{len(messages)} in {bare_s:.2f} s = {len(messages) / bare_s:.0f}/s; "
              f"ratio {bare_s / engine_s:.2f} ({args.connections} connections)")
    print(f"ratio engine/bare (median of {len(ratios)}): {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
