"""Corrections at scale: planning one correction of a bulletin that N subscribers received,
then composing and writing their N notices.

    .venv/bin/python bench/corrections_bench.py [--subscribers 10000] [--send 2000]

On SQLite and on PostgreSQL (when reachable): one immediate run carrying the bulletin to N
subscribers (one in five large text), its deliveries marked sent, a second version recorded;
then `queue_corrections` (find the recipients, queue N outbox rows and N notices, one
transaction) and a second call (nothing left to plan). Then one sending round of --send of
them through the file transport (compose in the subscriber's variant, write .eml).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from syndicator.config.databases import create_engine  # noqa: E402
from syndicator.config.settings import Settings  # noqa: E402
from syndicator.delivery import send  # noqa: E402
from syndicator.models.correction import substance  # noqa: E402
from syndicator.models.period import Period  # noqa: E402
from syndicator.planning.corrections import queue_corrections  # noqa: E402
from syndicator.planning.runs import create_run  # noqa: E402
from syndicator.state import versions  # noqa: E402
from syndicator.state.db import upgrade  # noqa: E402
from syndicator.state.schema import deliveries  # noqa: E402
from tests.integration.delivery_data import add_bulletin, add_subscribers  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def scenario(url: str, n: int, send_n: int, out: Path) -> None:
    engine = create_engine(url, "database.url")
    upgrade(engine)
    seen = datetime.now(UTC) - timedelta(hours=1)
    bid = add_bulletin(engine, seen)
    add_subscribers(engine, n, frequency="immediate")
    settings = Settings(mail={"transport": "file", "outbox_dir": str(out)},
                        security={"secret_key": "bench"}, log={"level": "warning"})
    create_run(engine, Period("immediate", seen - timedelta(minutes=1),
                              seen + timedelta(seconds=1)), settings.tz, seen)
    with engine.begin() as conn:
        conn.execute(deliveries.update().values(status="sent", sent_at=seen))
        old = substance("Thông báo tuyển dụng", "<p>Hồ sơ nộp trước ngày 20/11.</p>", None)
        new = substance("Thông báo tuyển dụng (sửa)", "<p>Hồ sơ nộp trước ngày 30/11.</p>", None)
        versions.insert(conn, bid, 1, "public", old, seen)
        versions.insert(conn, bid, 2, "public", new, datetime.now(UTC))
    t = time.perf_counter()
    queued = queue_corrections(settings, engine)
    plan_s = time.perf_counter() - t
    t = time.perf_counter()
    again = queue_corrections(settings, engine)
    again_ms = (time.perf_counter() - t) * 1000
    with engine.begin() as conn:  # only --send of them are due now
        conn.execute(deliveries.update().where(deliveries.c.kind == "correction",
                                               deliveries.c.id > send_n + n)
                     .values(next_attempt_at=datetime.now(UTC) + timedelta(days=1)))
    t = time.perf_counter()
    report = asyncio.run(send.deliver_due(settings, engine, asyncio.Event()))
    send_s = time.perf_counter() - t
    print(f"{engine.dialect.name:10} planned {queued} notices in {plan_s:.2f} s "
          f"({queued / plan_s:,.0f}/s); again: {again} in {again_ms:.1f} ms; "
          f"sent {report.sent} in {send_s:.2f} s ({report.sent / send_s:,.0f}/s, file)")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--send", type=int, default=2_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scenario(f"sqlite:///{tmp}/state.db", args.subscribers, args.send, Path(tmp) / "m1")
        admin = create_engine(PG, "postgresql", isolation_level="AUTOCOMMIT")
        name = f"syn_bench_{uuid.uuid4().hex[:8]}"
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {name}"))
        except sa.exc.OperationalError:
            print("postgresql not reachable: skipped")
            return
        try:
            url = sa.make_url(PG).set(database=name).render_as_string(hide_password=False)
            scenario(url, args.subscribers, args.send, Path(tmp) / "m2")
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
