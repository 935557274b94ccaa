"""The console's subscriber list over 100,000 subscribers on PostgreSQL: server time per page.

Each figure is the time the whole console takes to answer one request in-process (session
check, the roster's reads, rendering the page), median and 95th percentile over --rounds
requests, for the first page, pages deep in the list (keyset), and filtered pages. Beside
them, the same deep page read by OFFSET, the way the keyset replaces.

Usage: .venv/bin/python bench/console_bench.py [--rows 100000] [--rounds 40]
       [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
Creates a scratch database, fills it, measures, drops it.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicator.config.databases import create_engine  # noqa: E402
from syndicator.state.db import upgrade  # noqa: E402
from syndicator.state.schema import subscribers  # noqa: E402
from syndicator.telemetry import logs  # noqa: E402
from tests.support.console import make_console  # noqa: E402

CATEGORIES = ["Thi đua - Khen thưởng", "Tổ chức bộ máy", "Cải cách hành chính",
              "Chuyển đổi số", "Công chức, viên chức", "Văn thư - Lưu trữ"]
STATUSES = ["active"] * 16 + ["pending", "unsubscribed", "unsubscribed", "bounced"]
FREQUENCIES = ["daily", "daily", "weekly", "immediate"]
OPERATOR = "bench@sonoivu.example"


def fill(engine: sa.Engine, rows: int) -> None:
    """COPY the subscribers in: names and category choices vary as a province's do."""
    created = datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    buf = io.StringIO()
    for i in range(rows):
        cats = [] if i % 3 == 0 else [CATEGORIES[i % 6], CATEGORIES[(i // 6) % 6]]
        email = f"don-vi-{i:06d}@xa-{i % 997}.backan.gov.vn"
        buf.write("\t".join([email, email, f"UBND xã số {i}", FREQUENCIES[i % 4],
                             json.dumps(sorted(set(cats))), "large" if i % 5 == 0 else "standard",
                             STATUSES[i % 20], "f", "import", "0", "0", str(created),
                             str(created)]) + "\n")
    buf.seek(0)
    cols = ("email, email_key, name, frequency, categories, text_size, status, paused, "
            "consent_source, token_version, hard_bounces, created_at, updated_at")
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:  # type: ignore[attr-defined]
            with cur.copy(f"COPY subscribers ({cols}) FROM STDIN") as copy:
                copy.write(buf.getvalue())
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE subscribers"))


def timed(call: Callable[[], Any], rounds: int) -> tuple[float, float]:
    """(median, p95) in milliseconds, after one warm-up call."""
    call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def deep_key(engine: sa.Engine, position: int) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(sa.select(subscribers.c.email_key)
                               .order_by(subscribers.c.email_key).offset(position).limit(1)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    logs.configure("warning", "console")
    warnings.simplefilter("ignore")
    name = f"syn_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.admin_url, "bench", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, "database.url")
    try:
        run(engine, args.rows, args.rounds)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def run(engine: sa.Engine, rows: int, rounds: int) -> None:
    upgrade(engine)
    start = time.perf_counter()
    fill(engine, rows)
    print(f"filled {rows} subscribers in {time.perf_counter() - start:.1f} s")
    console = make_console(engine, Path("/tmp"), console={"page_size": 50})
    console.account(OPERATOR, "viewer")
    client = console.sign_in(OPERATOR)
    middle, end = deep_key(engine, rows // 2), deep_key(engine, rows - 60)
    cases = {
        "first page": "/admin/agencies",
        "page at row 50,000 (keyset)": f"/admin/agencies?after={middle}",
        "page at the end (keyset)": f"/admin/agencies?after={end}",
        "previous page from the middle": f"/admin/agencies?before={middle}",
        "status = active": "/admin/agencies?status=active",
        "status = bounced, deep": f"/admin/agencies?status=bounced&after={middle}",
        "category = Chuyển đổi số": "/admin/agencies?category=Chuyển đổi số",
        "weekly + category, deep": f"/admin/agencies?frequency=weekly&category=Chuyển đổi số"
                                   f"&after={middle}",
        "text search 'xa-42.'": "/admin/agencies?q=xa-42.",
    }
    print(f"{'request':40} {'median ms':>10} {'p95 ms':>8} {'rows shown':>10}")
    for label, path in cases.items():
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        shown = len(re.findall(r'<tr><td><a href="/admin/agencies/\d+"', page.text))
        median, p95 = timed(lambda p=path: client.get(p), rounds)
        print(f"{label:40} {median:10.1f} {p95:8.1f} {shown:10d}")
    offset_side_by_side(engine, rounds, rows)


def offset_side_by_side(engine: sa.Engine, rounds: int, rows: int) -> None:
    """The same deep page read the two ways (reads only, no page rendering)."""
    from syndicator.state import roster

    key = deep_key(engine, rows - 60)

    def keyset() -> None:
        with engine.connect() as conn:
            roster.page(conn, roster.Filters(), 51, after=key)

    def offset() -> None:
        with engine.connect() as conn:
            conn.execute(sa.select(subscribers).order_by(subscribers.c.email_key)
                         .offset(rows - 60).limit(51)).all()

    k, _ = timed(keyset, rounds)
    o, _ = timed(offset, rounds)
    print(f"deep page read alone: keyset {k:.1f} ms, OFFSET {o:.1f} ms ({o / k:.0f}x)")


if __name__ == "__main__":
    main()
