"""GET/HEAD /feeds/<file> through a real uvicorn on a free 127.0.0.1 port."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from syndicator.config.settings import Settings
from syndicator.feeds import writer
from syndicator.feeds.build import render_all
from syndicator.web.feeds import routes
from tests.feeds_support import T0, bulletin

TYPES = {
    "all.atom": "application/atom+xml; charset=utf-8",
    "all.rss": "application/rss+xml; charset=utf-8",
    "all.json": "application/feed+json; charset=utf-8",
    "index.opml": "text/x-opml; charset=utf-8",
}


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    out = tmp_path / "feeds"
    out.mkdir()
    for name, data in render_all(Settings(), [bulletin(i) for i in range(1, 4)], T0).items():
        writer.write_if_changed(out / name, data)
    (tmp_path / "secret.txt").write_text("not for the web")
    return out


@pytest.fixture
def base_url(feed_dir: Path) -> Iterator[str]:
    yield from _serve(Settings(feeds={"output_dir": str(feed_dir)}))


def _serve(settings: Settings) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes(settings)),
                                           log_level="warning", lifespan="off"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    try:
        _wait_until_serving(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _wait_until_serving(port: int) -> None:
    # The socket is bound and listening before uvicorn starts: a connect waits in the backlog.
    with httpx.Client(timeout=30) as client:
        client.get(f"http://127.0.0.1:{port}/feeds/none.atom")


@pytest.mark.parametrize("name", sorted(TYPES))
def test_get_serves_the_file_with_validators(base_url: str, feed_dir: Path, name: str) -> None:
    r = httpx.get(f"{base_url}/feeds/{name}", timeout=30)
    assert r.status_code == 200
    assert r.content == (feed_dir / name).read_bytes()
    assert r.headers["content-type"] == TYPES[name]
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["etag"].startswith('"') and not r.headers["etag"].startswith("W/")
    mtime = (feed_dir / name).stat().st_mtime
    assert r.headers["last-modified"] == formatdate(int(mtime), usegmt=True)


HUB = "https://hub.example/"


@pytest.fixture
def websub_url(feed_dir: Path) -> Iterator[str]:
    (feed_dir / "all.archive-1.atom").write_bytes((feed_dir / "all.atom").read_bytes())
    yield from _serve(Settings(public_base_url="https://bantin.example",
                               feeds={"output_dir": str(feed_dir), "websub_hub": HUB}))


@pytest.mark.parametrize("name", ["all.atom", "all.rss", "all.json"])
def test_with_a_hub_a_feed_names_it_and_itself_in_link_headers(websub_url: str,
                                                               name: str) -> None:
    # W3C WebSub 4: the publisher MUST send rel="hub" and rel="self" Link headers; the self
    # URL is the topic we announce to the hub.
    expected = [f'<{HUB}>; rel="hub"', f'<https://bantin.example/feeds/{name}>; rel="self"']
    with httpx.Client(timeout=30) as client:
        for method in ("GET", "HEAD", "GET"):  # the second GET comes from the route's cache
            r = client.request(method, f"{websub_url}/feeds/{name}")
            assert r.status_code == 200
            assert r.headers.get_list("link") == expected, method


def test_only_announced_documents_carry_websub_links(websub_url: str, base_url: str) -> None:
    with httpx.Client(timeout=30) as client:
        for url in (f"{websub_url}/feeds/all.archive-1.atom", f"{websub_url}/feeds/index.opml",
                    f"{base_url}/feeds/all.atom"):
            r = client.get(url)
            assert r.status_code == 200 and "link" not in r.headers, url


def test_conditional_requests_get_304_without_a_body(base_url: str) -> None:
    url = f"{base_url}/feeds/all.atom"
    with httpx.Client(timeout=30) as client:
        first = client.get(url)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        for headers in ({"if-none-match": etag}, {"if-none-match": f'"x", W/{etag}'},
                        {"if-none-match": "*"}, {"if-modified-since": modified}):
            r = client.get(url, headers=headers)
            assert (r.status_code, r.content) == (304, b""), headers
            assert r.headers["etag"] == etag
            assert r.headers["cache-control"] == "public, max-age=300"
        assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200
        old = "Mon, 01 Jan 2001 00:00:00 GMT"
        assert client.get(url, headers={"if-modified-since": old}).status_code == 200
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
        both = {"if-none-match": '"other"', "if-modified-since": modified}
        assert client.get(url, headers=both).status_code == 200
        assert client.get(url, headers={"if-modified-since": "garbage"}).status_code == 200


def test_head_has_the_get_headers_and_no_body(base_url: str, feed_dir: Path) -> None:
    with httpx.Client(timeout=30) as client:
        get = client.get(f"{base_url}/feeds/all.json")
        head = client.head(f"{base_url}/feeds/all.json")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    for h in ("etag", "last-modified", "content-type", "cache-control"):
        assert head.headers[h] == get.headers[h]


def test_a_rebuild_with_new_bytes_changes_the_etag(base_url: str, feed_dir: Path) -> None:
    url = f"{base_url}/feeds/all.rss"
    with httpx.Client(timeout=30) as client:
        old = client.get(url)
        files = render_all(Settings(), [bulletin(i) for i in range(1, 5)], T0)
        assert writer.write_if_changed(feed_dir / "all.rss", files["all.rss"])
        new = client.get(url, headers={"if-none-match": old.headers["etag"]})
    assert new.status_code == 200 and new.content == files["all.rss"]
    assert new.headers["etag"] != old.headers["etag"]


@pytest.mark.parametrize("path", ["/feeds/missing.atom", "/feeds/secret.txt",
                                  "/feeds/..%2Fsecret.txt", "/feeds/%2e%2e%2fsecret.txt",
                                  "/feeds/.tmp-all.atom.x", "/feeds/all.ATOM",
                                  "/feeds/../secret.txt", "/feeds/", "/feeds/all.atom/x"])
def test_anything_else_is_404(base_url: str, path: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)  # raw: no client-side normalisation of ".."
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 404, path
    assert b"not for the web" not in body


def test_other_methods_are_refused(base_url: str) -> None:
    with httpx.Client(timeout=30) as client:
        for method in ("POST", "PUT", "DELETE"):
            assert client.request(method, f"{base_url}/feeds/all.atom").status_code == 405
