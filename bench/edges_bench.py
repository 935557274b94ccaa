"""What the data and clock edges of issue 12 cost, side by side with what they guard.

1. Reading every row of a SQLite portal table: the driver's own decoding (one stray byte
   fails the whole read) against our text factory (a stray byte costs its row).
2. A first import of the same table with one unreadable row in it (read again in halves
   where the driver fails the fetch) against the same table clean.
3. The clock check each poll and recovery tick now runs, with nothing to repair, beside one
   SELECT 1 round trip, on SQLite and PostgreSQL state databases holding 100,000 bulletins.

Usage: .venv/bin/python bench/edges_bench.py [--rows 200000] [--admin-url postgresql://...]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicator.config.databases import create_engine  # noqa: E402
from syndicator.config.settings import Settings  # noqa: E402
from syndicator.ingest.poll import Poller  # noqa: E402
from syndicator.runtime.clock import check_clock  # noqa: E402
from syndicator.source.portal import PortalSource  # noqa: E402
from syndicator.state.db import upgrade  # noqa: E402
from syndicator.state.schema import bulletins, digest_runs  # noqa: E402
from syndicator.telemetry import logs  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def make_portal(path: Path, rows: int, bad: int | None) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE bulletins (id INTEGER PRIMARY KEY, title TEXT, summary TEXT, "
                     "body_html TEXT, author TEXT, category TEXT, url TEXT, published_at TEXT, "
                     "updated_at TEXT, status TEXT)")
        when = (NOW - timedelta(days=400)).strftime("%Y-%m-%d %H:%M:%S")
        conn.executemany("INSERT INTO bulletins VALUES (?,?,?,?,?,?,?,?,?,?)", [
            (i, f"Thông báo số {i} của Sở Nội vụ", f"Tóm tắt {i}", f"<p>Nội dung {i}</p>",
             "Thanh Thuyên", "Chuyển đổi số", f"https://p.example/{i}", when, when,
             "published") for i in range(1, rows + 1)])
        if bad is not None:
            conn.execute("UPDATE bulletins SET title = CAST(X'4869FF' AS TEXT) WHERE id = ?",
                         (bad,))


def read_all(rows: int, tmp: Path, rounds: int = 5) -> None:
    path = tmp / "read.db"
    make_portal(path, rows, None)
    url = f"sqlite:///{path}"
    settings = Settings(source={"url": url})
    ours = PortalSource(settings.source, settings.tz)
    plain = PortalSource(settings.source, settings.tz, engine=sa.create_engine(url))

    def read(source: PortalSource) -> Callable[[], object]:
        return lambda: sum(len(b) for b in source.all_rows(1000))

    a_runs: list[float] = []
    b_runs: list[float] = []
    for _ in range(rounds):  # in turn: the same load for both
        a_runs += timed(read(plain), 1)
        b_runs += timed(read(ours), 1)
    a, b = statistics.median(a_runs), statistics.median(b_runs)
    print(f"1. read {rows:,} rows (all columns, 1,000 a batch): driver's decoding "
          f"{a:.0f} ms, ours {b:.0f} ms, ratio {b / a:.2f}")


def first_import(rows: int, tmp: Path, rounds: int = 3) -> None:
    """The three variants in turn, `rounds` times: a shared machine's load hits them alike."""
    variants = (("clean", None, False), ("one bad row, ours", rows // 2, False),
                ("one bad row, read in halves", rows // 2, True))
    figures: dict[str, list[float]] = {label: [] for label, _, _ in variants}
    counts: dict[str, tuple[int, int]] = {}
    for _ in range(rounds):
        for label, bad, plain in variants:
            name = uuid.uuid4().hex[:8]
            make_portal(tmp / f"{name}.db", rows, bad)
            url = f"sqlite:///{tmp / name}.db"
            settings = Settings(source={"url": url},
                                database={"url": f"sqlite:///{tmp / name}-s.db"})
            state = create_engine(settings.database.url.get_secret_value(), "state")
            upgrade(state)
            engine = sa.create_engine(url) if plain else None
            source = PortalSource(settings.source, settings.tz, engine=engine)
            poller = Poller(settings, source, state, clock=lambda: NOW)
            t = time.perf_counter()
            report = poller.poll()
            figures[label].append(time.perf_counter() - t)
            counts[label] = (len(report.new) + len(report.archived), len(report.errors))
            state.dispose()
            source.engine.dispose()
    base = statistics.median(figures["clean"])
    for label, secs in figures.items():
        ingested, errors = counts[label]
        print(f"2. first import of {rows:,} rows, {label}: median {statistics.median(secs):.2f} s "
              f"of {rounds}, {ingested:,} ingested, {errors} skipped, "
              f"ratio {statistics.median(secs) / base:.2f}")


def clock_check(url: str, label: str) -> None:
    state = create_engine(url, "state")
    upgrade(state)
    with state.begin() as conn:
        conn.execute(bulletins.insert(), [
            {"source_id": str(i), "title": "t", "url": "https://p/", "published_at": NOW,
             "first_seen_at": NOW - timedelta(seconds=i), "changed_at": NOW,
             "content_hash": "0" * 64} for i in range(100_000)])
        conn.execute(digest_runs.insert(), [
            {"frequency": "immediate", "period_start": NOW - timedelta(minutes=i + 1),
             "period_end": NOW - timedelta(minutes=i), "status": "complete",
             "created_at": NOW - timedelta(minutes=i)} for i in range(10_000)])
    settings = Settings(database={"url": url})

    def ping() -> None:
        with state.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    checks: list[float] = []
    pings: list[float] = []
    for _ in range(51):  # interleaved: the same load for both
        checks += timed(lambda: check_clock(settings, state), 1)
        pings += timed(ping, 1)
    c, p = statistics.median(checks), statistics.median(pings)
    print(f"3. clock check, {label} (100,000 bulletins, 10,000 runs): {c:.2f} ms; "
          f"SELECT 1 {p:.2f} ms; ratio {c / p:.1f}")
    state.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    logs.configure("warning", "console")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        read_all(args.rows, tmp)
        first_import(min(args.rows, 5_000), tmp)
        clock_check(f"sqlite:///{tmp / 'clock.db'}", "SQLite")
    admin = create_engine(args.admin_url, "admin", isolation_level="AUTOCOMMIT")
    name = f"syn_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        url = sa.make_url(args.admin_url).set(database=name).render_as_string(False)
        clock_check(url, "PostgreSQL")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
