"""Feed benchmark: build time for 20 categories x 50 entries; HTTP requests/s of /feeds/ vs static.

Run: .venv/bin/python bench/feeds_bench.py [--requests 3000] [--clients 8]
Everything stays on 127.0.0.1 and every loop is bounded. Each server runs in its own process
(one uvicorn worker, or http.server) while this process drives it with keep-alive clients.
Its HTTP figures compare Python servers with a Python client, which hid a 44 ms stall per
kept-alive response: for the wire, use bench/feeds_wire_bench.py (wrk beside nginx).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CATEGORIES = 20
PER_CATEGORY = 50
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


# --- servers (run in a child process) ------------------------------------------------------

def serve(kind: str, directory: str, port: int) -> None:
    if kind == "httpserver":
        import functools
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the others

            def log_message(self, *args: object) -> None:
                pass

        handler = functools.partial(Quiet, directory=str(Path(directory).parent))
        ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
        return
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from syndicator.config.settings import Settings
    from syndicator.web.feeds import routes

    if kind == "ours":
        app = Starlette(routes=routes(Settings(feeds={"output_dir": directory})))
    else:
        app = Starlette(routes=[Mount("/feeds", StaticFiles(directory=directory))])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")


# --- build ---------------------------------------------------------------------------------

def build_figures(out: Path) -> dict[str, float]:
    import sqlalchemy as sa

    from syndicator.config.databases import create_engine
    from syndicator.config.settings import Settings
    from syndicator.feeds.build import render_all
    from syndicator.feeds.directory import build_all
    from syndicator.models.bulletin import CleanBulletin
    from syndicator.models.text import slugify
    from syndicator.state import bulletins as store
    from syndicator.state.db import upgrade
    from syndicator.state.schema import bulletins as table

    engine = create_engine(f"sqlite:///{out.parent / 'bench.db'}", "database.url")
    upgrade(engine)
    body = "<p>" + "Nội dung bản tin của Sở Nội vụ tỉnh Bắc Kạn. " * 40 + "</p>"
    with engine.begin() as conn:
        for n in range(CATEGORIES * PER_CATEGORY):
            cat = f"Chuyên mục số {n % CATEGORIES} - Cải cách hành chính"
            at = T0 + timedelta(minutes=n)
            store.insert(conn, CleanBulletin(
                source_id=str(n), title=f"Thông báo số {n} về việc triển khai nhiệm vụ",
                summary=f"<p>Tóm tắt bản tin {n}.</p>", body_html=body, author="Văn phòng Sở",
                category=cat, category_slug=slugify(cat), url=f"https://portal.example/{n}.html",
                published_at=at, source_updated_at=None, status="published"), at, True)
    settings = Settings(feeds={"output_dir": str(out), "max_entries": 50})
    with engine.connect() as conn:
        from syndicator.feeds import reads
        members = reads.all_in_arrival_order(conn)
        assert len(members) == CATEGORIES * PER_CATEGORY
        assert conn.scalar(sa.select(sa.func.count()).select_from(table)) == len(members)
    t = time.perf_counter()
    files = render_all(settings, members, T0 + timedelta(days=2))
    render = time.perf_counter() - t
    t = time.perf_counter()
    cold = build_all(settings, engine, T0 + timedelta(days=2))
    cold_s = time.perf_counter() - t
    from syndicator.feeds import directory

    directory._SEEN.clear()  # as a fresh `syndicator feeds build` process would start
    t = time.perf_counter()
    warm = build_all(settings, engine, T0 + timedelta(days=2))
    warm_s = time.perf_counter() - t
    t = time.perf_counter()
    daemon = build_all(settings, engine, T0 + timedelta(days=2))
    daemon_s = time.perf_counter() - t
    assert not warm.written and not daemon.written and len(cold.written) == len(files)
    size = (out / "all.atom").stat().st_size
    return {"files": len(files), "render_s": render, "cold_build_s": cold_s,
            "warm_build_s": warm_s, "daemon_build_s": daemon_s, "all_atom_kb": size / 1024,
            "members": len(members)}


# --- load ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, deadline_s: float = 30) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def load(port: int, path: str, total: int, clients: int, conditional: bool) -> float:
    """Requests/s for `total` keep-alive GETs spread over `clients` threads."""
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    probe.request("GET", path)
    first = probe.getresponse()
    body = first.read()
    assert first.status == 200 and body, (first.status, path)
    etag, modified = first.getheader("etag"), first.getheader("last-modified")
    validator = {"If-None-Match": etag} if etag else {"If-Modified-Since": modified or ""}
    headers = validator if conditional else {}
    expect = 304 if conditional else 200
    probe.close()
    per = total // clients
    errors: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(per):
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                data = r.read()
                if r.status != expect or (expect == 200 and len(data) != len(body)):
                    errors.append(f"{r.status} {len(data)}")
                    return
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if errors:
        raise RuntimeError(f"unexpected responses from {path}: {errors[:3]}")
    return per * clients / elapsed


def load_ab(port: int, path: str, total: int, clients: int, conditional: bool) -> float:
    """A new connection per request, as most feed readers poll, with ApacheBench (a C client).

    No keep-alive: ab speaks HTTP/1.0, on which uvicorn closes anyway.
    """
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    probe.request("GET", path)
    first = probe.getresponse()
    first.read()
    etag, modified = first.getheader("etag"), first.getheader("last-modified")
    probe.close()
    args = ["ab", "-q", "-n", str(total), "-c", str(clients)]
    if conditional:
        args += ["-H", f"If-None-Match: {etag}" if etag else f"If-Modified-Since: {modified}"]
    done = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                          text=True, timeout=600, check=True).stdout
    fields = dict(line.split(":", 1) for line in done.splitlines() if ":" in line)
    failed = int(fields["Failed requests"].strip())
    non_2xx = int(fields.get("Non-2xx responses", "0").strip())
    if failed or (non_2xx != (total if conditional else 0)):
        raise RuntimeError(f"unexpected responses from {path}: {failed} failed, {non_2xx} non-2xx")
    return float(fields["Requests per second"].split()[0])


def http_figures(out: Path, total: int, clients: int, rounds: int,
                 use_ab: bool) -> dict[str, dict[str, float]]:
    """Best of `rounds` interleaved rounds, so a burst of load elsewhere hits every server."""
    kinds = ("ours", "static", "httpserver")
    ports = {kind: free_port() for kind in kinds}
    procs = [subprocess.Popen([sys.executable, __file__, "--serve", kind, "--dir", str(out),
                               "--port", str(ports[kind])], cwd=REPO) for kind in kinds]
    modes = [("keep-alive", load)] + ([("new-conn", load_ab)] if use_ab else [])
    figures: dict[str, dict[str, float]] = {kind: {} for kind in kinds}
    try:
        for kind in kinds:
            wait_for(ports[kind])
            load(ports[kind], "/feeds/all.atom", min(total, 500), clients, False)  # warm-up
        for _ in range(rounds):
            for kind in kinds:
                for mode, loader in modes:
                    for what, conditional in (("200", False), ("304", True)):
                        rate = loader(ports[kind], "/feeds/all.atom", total, clients,
                                      conditional)
                        key = f"{mode} {what}"
                        figures[kind][key] = max(figures[kind].get(key, 0.0), rate)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    return figures


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-ab", action="store_true",
                        help="skip the new-connection figures even if ab (apache2-utils) is here")
    parser.add_argument("--serve", choices=["ours", "static", "httpserver"])
    parser.add_argument("--dir")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.dir, args.port)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "feeds"
        b = build_figures(out)
        print(f"build: {CATEGORIES} categories x {PER_CATEGORY} entries -> {b['files']} files "
              f"(all.atom {b['all_atom_kb']:.0f} KB)")
        print(f"  render only      {b['render_s'] * 1000:8.0f} ms")
        print(f"  build, cold      {b['cold_build_s'] * 1000:8.0f} ms (read DB, render, write all)")
        print(f"  build, no change {b['warm_build_s'] * 1000:8.0f} ms (new process: read DB, "
              "render, compare, 0 writes)")
        print(f"  same, in daemon  {b['daemon_build_s'] * 1000:8.0f} ms (read DB, model; "
              "unchanged documents not rendered)")
        use_ab = bool(shutil.which("ab")) and not args.no_ab
        h = http_figures(out, args.requests, args.clients, args.rounds, use_ab)
        print(f"http: GET /feeds/all.atom, {args.requests} requests x {args.clients} concurrent "
              f"per figure, best of {args.rounds} interleaved rounds, cpus={os.cpu_count()}, "
              f"uvicorn http={'httptools' if _has('httptools') else 'h11'}")
        print("  keep-alive: Python http.client threads; new-conn: ab, a connection per request")
        keys = list(h["ours"])
        print(f"  {'':24}" + "".join(f"{k:>18}" for k in keys))
        for kind, label in (("ours", "our route (uvicorn)"),
                            ("static", "StaticFiles (uvicorn)"),
                            ("httpserver", "python http.server")):
            print(f"  {label:24}" + "".join(f"{h[kind][k]:>12.0f} req/s" for k in keys))
        for other in ("static", "httpserver"):
            print(f"  ratio ours/{other:16}" + "".join(
                f"{h['ours'][k] / h[other][k]:>18.2f}" for k in keys))


if __name__ == "__main__":
    main()
