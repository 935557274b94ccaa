"""CPU of an idle `syndicator run` daemon at several poll intervals, from /proc/<pid>/stat.

Side by side in one run, one daemon per (source, interval), each in its own directory with
its own state database, none with anything to do but its schedule (nothing is published):
- sqlite: the demo (SQLite portal and state), the whole daemon;
- postgres: a 1,000,000-row PostgreSQL portal and a state database holding the same
  bulletins (made by `bench/poll_bench.py --keep`; each daemon gets its own copy of the state
  database, `CREATE DATABASE ... TEMPLATE`). These daemons run without the feeds job, which
  today reads every bulletin into memory to build the feeds and cannot start on 1,000,000;
  the feeds job's idle work (one fingerprint check per interval) is timed apart below, the
  check before issue 16 part B (a scan of every bulletin) beside today's, with the CPU the
  PostgreSQL backend spends on each.

After --warmup seconds, utime+stime of each daemon (all its threads) is read, and again
--seconds later. For the PostgreSQL daemons the server backends serving them are read the
same way. Figures are percent of one core.

With --baseline DIR (another checkout, e.g. `git archive main | tar -x -C DIR`) the same
daemons of that code run beside these, on copies of the same databases, in the same minutes.

Usage: .venv/bin/python bench/idle_cpu_bench.py [--intervals 5,10,15] [--seconds 600]
           [--postgres PORTAL_URL,STATE_URL] [--baseline DIR] [--check-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.daemon import Daemon, clean_env, cli, free_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
# The daemon as `syndicator run` starts it, less the feeds job (see the module docstring).
WITHOUT_FEEDS = ("import sys, syndicator.runtime.daemon as d; "
                 "d.FEATURES = frozenset({'delivery'}); "
                 "from syndicator.cli import main; sys.argv = ['syndicator', 'run']; main()")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Subject:
    label: str
    interval: int
    daemon: Daemon
    state_db: str | None = None  # PostgreSQL database name, for its backends
    start_cpu: float = 0.0
    start_backends: dict[int, float] | None = None


def start(label: str, interval: int, cwd: Path, *, source: str | None = None,
          state: str | None = None, code: str | None = None) -> Daemon:
    """A daemon of this checkout, or of the one in `code` (a baseline, by PYTHONPATH)."""
    extra = {"source__url": source, "database__url": state} if source and state else {}
    env = clean_env(http__port=str(free_port()), poll__interval_seconds=str(interval),
                    log__level="warning", **{k: v for k, v in extra.items() if v})
    if code:
        env["PYTHONPATH"] = code
    if not extra:
        for verb in (("db", "upgrade"), ("demo",)):
            done = cli(cwd, env, *verb)
            assert done.returncode == 0, done.stderr
    daemon = Daemon(cwd, env, int(env["SYNDICATOR_HTTP__PORT"]))
    if extra:  # Daemon.start runs `python -m syndicator run`; this one has no feeds job
        import subprocess
        with open(daemon.out, "ab") as out, open(daemon.err, "ab") as err:
            daemon.proc = subprocess.Popen([sys.executable, "-c", WITHOUT_FEEDS], cwd=cwd,
                                           env=env, stdout=out, stderr=err)
    else:
        daemon.start()
    daemon.wait_ready(timeout=300)
    return daemon


def downgrade(url: str, revision: str) -> None:
    """Take a copied state database back to an older revision (with this checkout's
    migrations, which know the way back)."""
    from alembic import command

    from syndicator.config.databases import create_engine
    from syndicator.state.db import _alembic_config

    engine = create_engine(url, "state")
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), revision)
    engine.dispose()


def backends(admin: sa.Engine, names: list[str]) -> dict[int, float]:
    with admin.connect() as conn:
        pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:n)"),
                            {"n": names}).scalars().all()
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_seconds(pid)
        except FileNotFoundError:
            pass
    return out


def backend_delta(before: dict[int, float], after: dict[int, float]) -> float:
    # A backend that appeared during the window counts whole (it started inside it).
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


# The feeds job's idle check before issue 16 part B: a scan of every bulletin.
OLD_FINGERPRINT = "SELECT count(*), max(id), max(changed_at) FROM bulletins"


@dataclass
class CheckCost:
    label: str
    client_ms: float  # median client CPU per check
    wall_ms: float  # median wall time per check
    server_ms: float  # the PostgreSQL backend's CPU per check (mean over the repeats)


def fingerprint_costs(state_url: str) -> list[CheckCost]:
    """The feeds job's idle check, the old query beside today's, on one kept connection;
    the backend's CPU is read from /proc like the daemons' (same machine), in clock ticks:
    the fast check is repeated often enough for them to resolve it."""
    from syndicator.config.databases import create_engine
    from syndicator.state.bulletins import fingerprint

    engine = create_engine(state_url, "state")
    out = []
    with engine.connect() as conn:
        backend = int(conn.scalar(sa.text("SELECT pg_backend_pid()")))
        # Parallel workers would spend part of a scan's CPU in other processes, unseen here.
        conn.execute(sa.text("SET max_parallel_workers_per_gather = 0"))
        conn.commit()
        for label, check, repeat in (
                ("before: count(*), max(id), max(changed_at)",
                 lambda: conn.execute(sa.text(OLD_FINGERPRINT)).one(), 21),
                ("now: change token + newest id", lambda: fingerprint(conn), 2001)):
            check()
            conn.commit()
            cpu, wall = [], []
            server0 = cpu_seconds(backend)
            for _ in range(repeat):
                c0, w0 = time.process_time(), time.perf_counter()
                check()
                conn.commit()  # one transaction per check, as the job's engine.connect() has
                cpu.append((time.process_time() - c0) * 1000)
                wall.append((time.perf_counter() - w0) * 1000)
            server = (cpu_seconds(backend) - server0) * 1000 / repeat
            out.append(CheckCost(label, statistics.median(cpu), statistics.median(wall), server))
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--intervals", default="5,10,15")
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--warmup", type=float, default=90)
    ap.add_argument("--postgres", help="PORTAL_URL,STATE_URL kept by bench/poll_bench.py --keep")
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also run daemons of another checkout, side by side (e.g. "
                         "`git archive main | tar -x -C DIR`)")
    ap.add_argument("--baseline-revision", default="0004",
                    help="the baseline's newest migration: its state databases go back to it")
    ap.add_argument("--check-only", action="store_true",
                    help="only the feeds job's idle check, old beside new (needs --postgres)")
    args = ap.parse_args()
    if args.check_only:
        print_check_costs(args.postgres.split(",")[1], [int(x) for x in args.intervals.split(",")])
        return
    intervals = [int(x) for x in args.intervals.split(",")]
    admin = sa.create_engine(args.admin_url.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    copies: list[str] = []
    subjects: list[Subject] = []
    with tempfile.TemporaryDirectory(prefix="idle-cpu-") as tmp:
        try:
            versions = [("", None)] + ([(" (baseline)", args.baseline)] if args.baseline else [])
            for suffix, code in versions:
                for i in intervals:
                    cwd = Path(tmp) / f"sqlite-{i}{suffix.strip(' ()')}"
                    cwd.mkdir()
                    subjects.append(Subject("sqlite demo" + suffix, i,
                                            start("sqlite", i, cwd, code=code)))
                if not args.postgres:
                    continue
                portal_url, state_url = args.postgres.split(",")
                template = sa.make_url(state_url).database
                for i in intervals:
                    name = f"syn_idle_{uuid.uuid4().hex[:8]}"
                    with admin.connect() as conn:
                        conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {template}"))
                    copies.append(name)
                    url = sa.make_url(state_url).set(database=name).render_as_string(False)
                    if code:  # the baseline refuses a state database newer than it knows
                        downgrade(url, args.baseline_revision)
                    cwd = Path(tmp) / f"postgres-{i}{suffix.strip(' ()')}"
                    cwd.mkdir()
                    daemon = start("postgres", i, cwd, source=portal_url, state=url, code=code)
                    subjects.append(Subject("postgres 1M rows" + suffix, i, daemon, name))
            print(f"{len(subjects)} daemons ready; warming up {args.warmup:.0f} s", flush=True)
            time.sleep(args.warmup)
            load0 = os.getloadavg()
            portal_db = sa.make_url(args.postgres.split(",")[0]).database if args.postgres else ""
            for s in subjects:
                assert s.daemon.proc is not None
                s.start_cpu = cpu_seconds(s.daemon.proc.pid)
                if s.state_db:
                    s.start_backends = backends(admin, [s.state_db])
            portal0 = backends(admin, [portal_db]) if portal_db else {}
            time.sleep(args.seconds)
            portal1 = backends(admin, [portal_db]) if portal_db else {}
            rows = []
            for s in subjects:
                assert s.daemon.proc is not None and s.daemon.proc.poll() is None, \
                    s.daemon.logs_text()[-2000:]
                used = cpu_seconds(s.daemon.proc.pid) - s.start_cpu
                db = (backend_delta(s.start_backends or {}, backends(admin, [s.state_db]))
                      if s.state_db else None)
                rows.append((s, used, db))
            load1 = os.getloadavg()
        finally:
            for s in subjects:
                if s.daemon.proc is not None and s.daemon.proc.poll() is None:
                    s.daemon.stop()
            with admin.connect() as conn:
                for name in copies:
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    print(f"idle over {args.seconds:.0f} s after {args.warmup:.0f} s of warm-up; load average "
          f"{load0[0]:.1f} at start, {load1[0]:.1f} at end")
    print("| source | poll interval | daemon CPU | % of one core | its state-db backends |")
    print("|---|---|---|---|---|")
    for s, used, db in rows:
        dbtext = f"{db:.1f} s ({100 * db / args.seconds:.2f} %)" if db is not None else "-"
        print(f"| {s.label} | {s.interval} s | {used:.1f} s | {100 * used / args.seconds:.2f} % "
              f"| {dbtext} |")
    if args.postgres:
        portal_cpu = backend_delta(portal0, portal1)
        print(f"portal backends (all PostgreSQL daemons together): {portal_cpu:.1f} s "
              f"({100 * portal_cpu / args.seconds:.2f} % of one core)")
        print_check_costs(args.postgres.split(",")[1], intervals)


def print_check_costs(state_url: str, intervals: list[int]) -> None:
    costs = fingerprint_costs(state_url)
    print("feeds job idle check on the 1M-row state database, side by side (per check):")
    print("| check | client CPU | wall | server CPU | "
          + " | ".join(f"server % of a core at {i} s" for i in intervals) + " |")
    print("|---|---|---|---|" + "---|" * len(intervals))
    for c in costs:
        shares = " | ".join(f"{c.server_ms / (10 * i):.3f} %" for i in intervals)
        print(f"| {c.label} | {c.client_ms:.2f} ms | {c.wall_ms:.2f} ms | {c.server_ms:.2f} ms "
              f"| {shares} |")
    before, now = costs
    print(f"ratio before/now: server CPU {before.server_ms / max(now.server_ms, 1e-3):.0f}x, "
          f"wall {before.wall_ms / now.wall_ms:.0f}x")


if __name__ == "__main__":
    main()
