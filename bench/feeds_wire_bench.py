"""GET /feeds/all.atom on the wire: the daemon beside nginx serving the same directory, with wrk.

Run: .venv/bin/python bench/feeds_wire_bench.py [--source DIR] [--duration 10] [--rounds 2]
          [--bare]
Needs wrk and nginx (Debian packages `wrk`, `nginx`). `--bare` adds the floor under the
daemon and the route alone (`bench/bare_asgi.py`): constant bytes with no work of ours
(`*-bare`), and the daemon's feed route with nothing else of the daemon (`*-route`), each
served by uvicorn with uvloop and httptools as the daemon is, and by granian where it is
installed in the same environment (`pip install granian`; not a dependency of the project).
`--source` runs another checkout's package (e.g. a worktree of an older commit) for
"before" figures; the bench script, nginx and wrk stay the same. Everything stays on
127.0.0.1 on free ports; nginx runs from a temporary config (as nobody when run as root).
Each scenario runs the daemon, then nginx (then the other servers), then again,
alternating, and reports the median round.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOBODY = 65534
THREADS = 1  # wrk threads: on 2 cores, one for the client and one for the server
NGINX_CONF = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/t1; proxy_temp_path {root}/t2; fastcgi_temp_path {root}/t3;
    uwsgi_temp_path {root}/t4; scgi_temp_path {root}/t5;
    server {{
        listen 127.0.0.1:{port};
        location /feeds/ {{
            alias {feeds}/;
            types {{ application/atom+xml atom; }}
            charset utf-8;
            charset_types application/atom+xml;
            etag on;
            gzip_static on;
            gzip_vary on;
            add_header Cache-Control "public, max-age=300";
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, deadline_s: float = 60) -> None:
    host, port = url.split("//")[1].split("/")[0].split(":")
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, int(port)), timeout=1) as s:
                s.sendall(b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer 200 in {deadline_s} s")


def prepare(root: Path, source: Path) -> tuple[dict[str, str], Path]:
    """The demo portal, polled and built by `source`'s package; (environment, feeds dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    env["PYTHONPATH"] = str(source)
    for verb in (["demo"], ["poll"], ["feeds", "build"]):
        subprocess.run([sys.executable, "-m", "syndicator", *verb], cwd=root, env=env,
                       check=True, capture_output=True)
    return env, root / "var" / "feeds"


def start_daemon(root: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    env = {**env, "SYNDICATOR_HTTP__PORT": str(port), "SYNDICATOR_LOG__LEVEL": "warning",
           "SYNDICATOR_POLL__INTERVAL_SECONDS": "3600"}
    return subprocess.Popen([sys.executable, "-m", "syndicator", "run"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_nginx(root: Path, feeds: Path, port: int) -> subprocess.Popen[bytes]:
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, feeds=feeds, port=port))
    user = None
    if os.geteuid() == 0:
        user = NOBODY
        for path in [root, *root.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
    return subprocess.Popen(["nginx", "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
                            user=user, stderr=subprocess.DEVNULL)


def start_bare(server: str, feeds: Path, port: int, source: Path) -> subprocess.Popen[bytes]:
    """`uvicorn-bare`, `granian-route`, ...: bench/bare_asgi.py's `app` or `route`."""
    env = {**os.environ, "BARE_FEED": str(feeds / "all.atom"),
           "PYTHONPATH": os.pathsep.join([str(REPO / "bench"), str(source)])}
    kind, app = server.split("-")
    target = f"bare_asgi:{'app' if app == 'bare' else 'route'}"
    if kind == "uvicorn":
        cmd = ["-m", "uvicorn", target, "--loop", "uvloop", "--http", "httptools",
               "--no-access-log", "--log-level", "warning"]
    else:
        cmd = ["-m", "granian", "--interface", "asgi", "--loop", "uvloop", "--workers", "1",
               "--runtime-threads", "1", "--log-level", "warning", target]
    return subprocess.Popen([sys.executable, *cmd, "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def etag(url: str, gzip: bool) -> str:
    out = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null",
                          *(["-H", "Accept-Encoding: gzip"] if gzip else []), url],
                         capture_output=True, text=True, check=True).stdout
    found = re.search(r"(?im)^etag:\s*(\S+)", out)
    assert found, out
    return found.group(1)


def wrk(url: str, headers: list[str], duration: int, connections: int) -> dict[str, float]:
    cmd = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read", out)
    assert found, out
    requests, read, unit = found.groups()
    scale = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[unit]
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
            "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
            "bytes": float(read) * scale / max(int(requests), 1)}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, default=REPO, help="checkout whose package to run")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--bare", action="store_true",
                   help="also serve constant bytes, and the route alone, with uvicorn "
                   "(and granian if installed)")
    args = p.parse_args()
    for tool in ("wrk", "nginx", "curl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing (apt-get install wrk nginx curl)")
    root = Path(tempfile.mkdtemp(prefix="syndicator-wire-"))
    root.chmod(0o755)
    env, feeds = prepare(root, args.source.resolve())
    ports = {"daemon": free_port(), "nginx": free_port()}
    procs = [start_daemon(root, env, ports["daemon"]), start_nginx(root, feeds, ports["nginx"])]
    if args.bare:
        kinds = ["uvicorn"] + (["granian"] if importlib.util.find_spec("granian") else [])
        for server in [f"{kind}-{app}" for app in ("bare", "route") for kind in kinds]:
            ports[server] = free_port()
            procs.append(start_bare(server, feeds, ports[server], args.source.resolve()))
    try:
        urls = {k: f"http://127.0.0.1:{port}/feeds/all.atom" for k, port in ports.items()}
        for url in urls.values():
            wait_for(url)
        print(f"source: {args.source}; all.atom {(feeds / 'all.atom').stat().st_size} B; "
              f"wrk -t{THREADS} -c{args.connections} -d{args.duration}s; "
              f"load {os.getloadavg()[0]:.1f}")
        run(urls, args)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)
        shutil.rmtree(root, ignore_errors=True)


def run(urls: dict[str, str], args: argparse.Namespace) -> None:
    print("| scenario | server | req/s | p50 ms | p99 ms | bytes/response |")
    print("|---|---|---|---|---|---|")
    for conn in ("keep-alive", "new connection"):
        for status in ("200", "304"):
            base = ["Accept-Encoding: gzip"] + (["Connection: close"]
                                                if conn == "new connection" else [])
            figures: dict[str, list[dict[str, float]]] = {server: [] for server in urls}
            for _ in range(args.rounds):
                for server, url in urls.items():  # alternating, as the machine's load drifts
                    headers = base + ([f"If-None-Match: {etag(url, True)}"]
                                      if status == "304" else [])
                    figures[server].append(wrk(url, headers, args.duration, args.connections))
            report(f"{conn}, {status}", figures)


def report(scenario: str, figures: dict[str, list[dict[str, float]]]) -> None:
    medians = {}
    for server, runs in figures.items():
        best = sorted(runs, key=lambda f: f["rps"])[len(runs) // 2]  # the median round
        medians[server] = best
        print(f"| {scenario} | {server} | {best['rps']:,.0f} | {best['p50_ms']:.2f} | "
              f"{best['p99_ms']:.2f} | {best['bytes']:,.0f} |")
    for server in figures:
        if server == "nginx":
            continue
        ratio = medians[server]["rps"] / medians["nginx"]["rps"]
        spread = statistics.pstdev([f["rps"] for f in figures[server]])
        print(f"| {scenario} | **{server} / nginx** | **{ratio:.2f}** | | | "
              f"({server} rounds ±{spread:,.0f} req/s) |")


if __name__ == "__main__":
    main()
