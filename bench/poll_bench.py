"""Poll cost against a 1,000,000-row PostgreSQL portal table, beside a plain indexed query.

Times both Poller.poll() (a hand-driven clock) and services.poll_once() (the daemon's path:
poll lease, poll, queue immediate digests), each with one PortalSource kept across polls.

Usage: .venv/bin/python bench/poll_bench.py [--rows 1000000] [--admin-url postgresql://...]
                                            [--query]
Creates two scratch databases (portal, state), fills them, measures, drops them.

--query: the portal is a CMS's tables (news, authors, categories, a news-category link
table) read through source.query, a join with categories aggregated by string_agg (the
recipe of docs/recipes/), instead of one bulletins table.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicator.config.databases import create_engine  # noqa: E402
from syndicator.config.settings import Settings  # noqa: E402
from syndicator.ingest.clean import clean_row  # noqa: E402
from syndicator.ingest.poll import Poller, PollReport  # noqa: E402
from syndicator.runtime.poll import poll_once  # noqa: E402
from syndicator.source.portal import PortalSource, SourceRow  # noqa: E402
from syndicator.state import content_json  # noqa: E402
from syndicator.state.db import upgrade  # noqa: E402
from syndicator.state.values import INGEST_WATERMARK as WATERMARK  # noqa: E402
from syndicator.state.values import get_value, set_value  # noqa: E402
from syndicator.telemetry import logs  # noqa: E402

# Real time: services.poll_once runs on the real clock, as the daemon does.
NOW = datetime.now(UTC).replace(microsecond=0)
SPACING = 300
PROFILE = "--profile" in sys.argv
QUERY = "--query" in sys.argv
JOINED = """
SELECT n.id AS id, n.title AS title, n.summary AS summary, n.body_html AS body_html,
       a.name AS author,
       (SELECT string_agg(c.name, ';' ORDER BY c.name) FROM news_categories nc
          JOIN categories c ON c.id = nc.category_id WHERE nc.news_id = n.id) AS category,
       n.url AS url, n.published_at AS published_at, n.updated_at AS updated_at,
       CASE WHEN n.state = 2 THEN 'published' ELSE 'hidden' END AS status
  FROM news n LEFT JOIN authors a ON a.id = n.author_id"""
CATEGORIES = ["Thi đua - Khen thưởng", "Tổ chức bộ máy", "Cải cách hành chính",
              "Chuyển đổi số", "Công chức, viên chức", "Văn thư - Lưu trữ"]


def source_settings(portal_url: str, indexed: bool = False) -> dict[str, object]:
    if not QUERY:
        return {"url": portal_url}
    return {"url": portal_url, "query": JOINED, "category_separator": ";",
            "indexed_fields": ["published_at", "updated_at"] if indexed else []}


def categories_of(i: int) -> list[str]:
    """One or two categories (every other bulletin has two), as string_agg orders them."""
    names = {CATEGORIES[i % len(CATEGORIES)]}
    if i % 2:
        names.add(CATEGORIES[(i + 1) % len(CATEGORIES)])
    return sorted(names)


def portal_row(i: int, settings: Settings) -> dict[str, object]:
    # One bulletin every SPACING seconds back from NOW (a busy portal publishes ~20 a day).
    published = (NOW - timedelta(seconds=SPACING * i)).astimezone(settings.tz).replace(tzinfo=None)
    return {"id": i, "title": f"Thông báo số {i} của Sở Nội vụ về công tác cán bộ",
            "summary": f"Tóm tắt bản tin {i}.",
            "body_html": f"<p>Nội dung bản tin số {i}, gồm nhiều đoạn văn.</p><p>Đoạn hai.</p>",
            "author": "Thanh Thuyên",
            "category": ";".join(categories_of(i)) if QUERY else CATEGORIES[i % len(CATEGORIES)],
            "url": f"https://portal.example/tin/{i}", "published_at": published,
            "updated_at": published, "status": "published"}


def copy_rows(engine: sa.Engine, table: str, cols: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO()
    for r in rows:
        buf.write("\t".join("\\N" if v is None else str(v).replace("\t", " ") for v in r) + "\n")
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                copy.write(buf.getvalue())
        raw.commit()
    finally:
        raw.close()


CMS_TABLES = """
CREATE TABLE authors (id integer PRIMARY KEY, name text);
CREATE TABLE categories (id integer PRIMARY KEY, name text);
CREATE TABLE news (id integer PRIMARY KEY, title text, summary text, body_html text,
                   author_id integer, url text, published_at timestamp, updated_at timestamp,
                   state smallint);
CREATE TABLE news_categories (news_id integer, category_id integer,
                              PRIMARY KEY (news_id, category_id));
INSERT INTO authors VALUES (1, 'Thanh Thuyên');
"""


def write_portal(portal: sa.Engine, rows: list[dict[str, object]]) -> None:
    """One bulletins table, or (--query) the CMS's news and news_categories rows."""
    if not QUERY:
        cols = list(rows[0])
        copy_rows(portal, "bulletins", cols, [[r[c] for c in cols] for r in rows])
        return
    copy_rows(portal, "news", ["id", "title", "summary", "body_html", "author_id", "url",
                               "published_at", "updated_at", "state"],
              [[r["id"], r["title"], r["summary"], r["body_html"], 1, r["url"],
                r["published_at"], r["updated_at"], 2] for r in rows])
    copy_rows(portal, "news_categories", ["news_id", "category_id"],
              [[r["id"], CATEGORIES.index(c) + 1] for r in rows
               for c in str(r["category"]).split(";")])


def fill(settings: Settings, portal: sa.Engine, state: sa.Engine, n: int) -> None:
    with portal.begin() as conn:
        if QUERY:
            for statement in filter(str.strip, CMS_TABLES.split(";")):
                conn.execute(sa.text(statement))
            for k, name in enumerate(CATEGORIES, start=1):
                conn.execute(sa.text("INSERT INTO categories VALUES (:k, :n)"),
                             {"k": k, "n": name})
        else:
            conn.execute(sa.text(
                "CREATE TABLE bulletins (id integer PRIMARY KEY, title text, summary text, "
                "body_html text, author text, category text, url text, "
                "published_at timestamp, updated_at timestamp, status text)"))
    state_cols = ["source_id", "title", "summary", "body_html", "author", "category",
                  "category_slug", "url", "published_at", "source_updated_at", "first_seen_at",
                  "changed_at", "content_hash", "revision", "state", "notify", "categories"]
    batch = 50_000
    for start in range(1, n + 1, batch):
        rows = [portal_row(i, settings) for i in range(start, min(start + batch, n + 1))]
        write_portal(portal, rows)
        cleaned = [clean_row(SourceRow(str(r["id"]), r), settings.tz, "https://portal.example/",
                             settings.source.category_separator) for r in rows]
        copy_rows(state, "bulletins", state_cols, [[
            b.source_id, b.title, b.summary, b.body_html, b.author, b.category, b.category_slug,
            b.url, b.published_at.replace(tzinfo=None), b.source_updated_at.replace(tzinfo=None),
            b.published_at.replace(tzinfo=None), b.published_at.replace(tzinfo=None),
            b.content_hash, 1, "public", "true", content_json.encode(b)["categories"]]
            for b in cleaned])
        print(f"  filled {min(start + batch - 1, n):,} rows", file=sys.stderr)
    with portal.begin() as conn:
        for table in (("news", "news_categories") if QUERY else ("bulletins",)):
            conn.execute(sa.text(f"ANALYZE {table}"))
    with state.begin() as conn:
        conn.execute(sa.text("ANALYZE bulletins"))
        set_value(conn, WATERMARK, NOW.isoformat())


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--spacing", type=int, default=300,
                    help="seconds between two bulletins in the generated history")
    ap.add_argument("--profile", action="store_true", help="print a profile of 10 polls")
    ap.add_argument("--keep", action="store_true", help="keep the databases (prints their URLs)")
    ap.add_argument("--reuse", help="PORTAL_URL,STATE_URL of databases kept by --keep")
    ap.add_argument("--query", action="store_true",
                    help="the portal as a CMS's tables read through source.query")
    args = ap.parse_args()
    global SPACING
    SPACING = args.spacing
    logs.configure("warning", "console")
    if args.reuse:
        portal_url, state_url = args.reuse.split(",")
        measure(portal_url, state_url, args.rows)
        return
    admin = create_engine(args.admin_url, "admin", isolation_level="AUTOCOMMIT")
    names = [f"syn_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    urls = [sa.make_url(args.admin_url).set(database=n).render_as_string(False) for n in names]
    try:
        run(args.rows, *urls)
    finally:
        if args.keep:
            print(f"kept: --reuse {urls[0]},{urls[1]}")
        else:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def run(n: int, portal_url: str, state_url: str) -> None:
    settings = Settings(source=source_settings(portal_url), database={"url": state_url})
    portal = create_engine(portal_url, "portal")
    state = create_engine(state_url, "state")
    upgrade(state)
    t0 = time.perf_counter()
    fill(settings, portal, state, n)
    print(f"setup: {n:,} rows in portal and state in {time.perf_counter() - t0:.0f} s "
          f"(one bulletin every {SPACING} s; hot set capped at {settings.ingest.hot_limit})")
    measure(portal_url, state_url, n)


def measure(portal_url: str, state_url: str, n: int) -> None:
    settings = Settings(source=source_settings(portal_url), database={"url": state_url})
    portal = create_engine(portal_url, "portal")
    state = create_engine(state_url, "state")
    with state.connect() as conn:
        clock = [datetime.fromisoformat(get_value(conn, WATERMARK) or NOW.isoformat())]
        n = int(conn.scalar(sa.text("SELECT max(CAST(source_id AS integer)) FROM bulletins")))

    def plain() -> None:
        since = (clock[0] - timedelta(minutes=10)).astimezone(settings.tz).replace(tzinfo=None)
        with portal.connect() as conn:
            conn.execute(sa.text(f"SELECT * FROM {table} WHERE updated_at >= :s"),
                         {"s": since}).all()

    table = "news" if QUERY else "bulletins"

    def report(label: str) -> Poller:
        # One source per process, as the daemon keeps it: the table's shape is read once.
        nonlocal settings
        settings = Settings(source=source_settings(portal_url, indexed=label.startswith("with ")),
                            database={"url": state_url})
        source = PortalSource(settings.source, settings.tz)
        poller = Poller(settings, source, state, clock=lambda: clock[0])

        def poll() -> None:
            clock[0] += timedelta(seconds=60)
            no_change(poller.poll())

        def daemon() -> None:  # what the daemon runs: lease, poll, queue immediate digests
            no_change(poll_once(settings, state, source))

        for warm in (poll, daemon, plain):
            warm()
        polls, daemons, plains = timed(poll, 21), timed(daemon, 21), timed(plain, 21)
        p, d, q = (statistics.median(x) for x in (polls, daemons, plains))
        print(f"{label}:\n  no-change Poller.poll() median {p:.1f} ms (min {min(polls):.1f})\n"
              f"  no-change services.poll_once() median {d:.1f} ms (min {min(daemons):.1f})\n"
              f"  plain query on the same window median {q:.2f} ms (min {min(plains):.2f}); "
              f"ratio of medians {p / q:.2f}x (Poller), {d / q:.2f}x (poll_once)")
        return poller

    with portal.begin() as conn:
        indexed = conn.scalar(sa.text(
            f"SELECT count(*) FROM pg_indexes WHERE tablename = '{table}'")) > 1
    if not indexed:
        report("without indexes on the portal's timestamps (only its primary key)")
        with portal.begin() as conn:
            conn.execute(sa.text(f"CREATE INDEX ON {table} (updated_at)"))
            conn.execute(sa.text(f"CREATE INDEX ON {table} (published_at)"))
            conn.execute(sa.text(f"ANALYZE {table}"))
    poller = report("with indexes on updated_at and published_at")
    if PROFILE:
        profile(poller, clock)
    ingest_new(settings, portal, poller, clock, n)


def no_change(report: PollReport) -> None:
    assert not report.new and not report.withdrawn and not report.changed, report


def profile(poller: Poller, clock: list[datetime]) -> None:
    import cProfile
    import pstats

    def poll() -> None:
        clock[0] += timedelta(seconds=60)
        poller.poll()

    prof = cProfile.Profile()
    prof.enable()
    timed(poll, 10)
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def ingest_new(settings: Settings, portal: sa.Engine, poller: Poller, clock: list[datetime],
               n: int) -> None:
    for attempt in range(3):
        base = n + 1 + attempt * 1000  # after the highest id so far
        # The hand-driven clock runs ahead of real time; the daemon's clock (a later --reuse)
        # would see rows published "in the future" and rightly withdraw them.
        moment = min(clock[0], datetime.now(UTC)) - timedelta(seconds=5)
        rows = []
        for i in range(base, base + 1000):
            r = portal_row(i, settings)
            r["published_at"] = r["updated_at"] = moment.astimezone(settings.tz).replace(
                tzinfo=None)
            rows.append(r)
        write_portal(portal, rows)
        clock[0] += timedelta(seconds=60)
        t0 = time.perf_counter()
        got = poller.poll()
        ms = (time.perf_counter() - t0) * 1000
        assert len(got.new) == 1000, len(got.new)
        print(f"poll ingesting 1,000 new rows: {ms:.0f} ms ({ms / 1000:.2f} ms per bulletin)")


if __name__ == "__main__":
    main()
