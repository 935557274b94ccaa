"""The nginx block of docs/feeds.md, run by a real nginx over a feed directory we built."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syndicator.config.settings import Settings
from syndicator.feeds import precompressed
from syndicator.feeds.build import render_all
from tests.conftest import REPO, REQUIRE
from tests.e2e.daemon import free_port
from tests.feeds_support import T0, bulletin

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TYPES = {"all.atom": "application/atom+xml; charset=utf-8",
         "all.rss": "application/rss+xml; charset=utf-8",
         "all.json": "application/feed+json; charset=utf-8",
         "index.opml": "text/x-opml; charset=utf-8",
         "feed.xsl": "text/xsl; charset=utf-8"}
NOBODY = 65534


def documented_block() -> str:
    text = (REPO / "docs" / "feeds.md").read_text("utf-8")
    found = re.search(r"```nginx\n(.*?)```", text, re.S)
    assert found, "docs/feeds.md has no nginx block"
    return found.group(1)


@pytest.fixture
def nginx() -> Iterator[tuple[str, Path]]:
    """nginx serving a fresh feed directory with the documented block; (base URL, directory).

    An unprivileged process: when the tests run as root, nginx runs as nobody, from a
    directory nobody can read."""
    if not os.path.exists(NGINX):
        if REQUIRE:
            pytest.fail("nginx is not installed (.ci/run installs it)")
        pytest.skip("nginx is not installed")
    root = Path(tempfile.mkdtemp(prefix="syndicator-nginx-"))
    feeds = root / "feeds"
    feeds.mkdir()
    files = render_all(Settings(), [bulletin(i) for i in range(1, 4)], T0)
    for name, data in files.items():
        precompressed.write(feeds / name, data)
    (feeds / ".tmp-all.atom.x1").write_bytes(b"half a file")
    port = free_port()
    block = documented_block().replace("/srv/syndicator/var/feeds/", f"{feeds}/")
    conf = root / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/body; proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi; uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        {block}
    }}
}}
""")
    _hand_to_nobody(root)
    user = NOBODY if os.geteuid() == 0 else None
    proc = subprocess.Popen([NGINX, "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
                            user=user, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, proc)
        yield base, feeds
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _hand_to_nobody(root: Path) -> None:
    if os.geteuid() != 0:
        return
    for path in [root, *root.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    root.chmod(0o755)


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            error = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"nginx exited: {error}")
        try:
            httpx.get(base + "/feeds/all.atom", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("nginx did not start")


def test_the_documented_nginx_block_serves_types_headers_and_gzip_copies(
        nginx: tuple[str, Path]) -> None:
    base, feeds = nginx
    with httpx.Client(timeout=10) as client:
        for name, media in TYPES.items():
            plain = client.get(f"{base}/feeds/{name}", headers={"accept-encoding": "identity"})
            assert plain.status_code == 200, name
            assert plain.headers["content-type"] == media, name
            assert plain.content == (feeds / name).read_bytes()
            assert plain.headers["cache-control"] == "public, max-age=300"
            assert plain.headers["x-content-type-options"] == "nosniff"
            assert plain.headers["access-control-allow-origin"] == "*"
            with client.stream("GET", f"{base}/feeds/{name}",
                               headers={"accept-encoding": "gzip"}) as packed:
                raw = b"".join(packed.iter_raw())
            assert packed.headers["content-encoding"] == "gzip", name
            assert packed.headers["vary"] == "Accept-Encoding"
            assert gzip.decompress(raw) == plain.content
            assert packed.headers["etag"] != plain.headers["etag"]
            for r, coding in ((plain, "identity"), (packed, "gzip")):
                again = client.get(f"{base}/feeds/{name}", headers={
                    "accept-encoding": coding, "if-none-match": r.headers["etag"]})
                assert again.status_code == 304, (name, coding)


@pytest.mark.parametrize("path", ["/feeds/.tmp-all.atom.x1", "/feeds/all.atom.gz"])
def test_the_documented_block_hides_temporaries_and_copies(nginx: tuple[str, Path],
                                                           path: str) -> None:
    base, _ = nginx
    assert httpx.get(base + path, timeout=10).status_code == 404
