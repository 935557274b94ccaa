"""GET/HEAD /feeds/<file> through a real uvicorn on a free 127.0.0.1 port."""

from __future__ import annotations

import gzip
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from syndicator.config.settings import Settings
from syndicator.feeds import precompressed, writer
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
        precompressed.write(out / name, data)
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


@pytest.mark.parametrize("coding", ["identity", "gzip"])
def test_head_has_the_get_headers_and_no_body(base_url: str, coding: str) -> None:
    with httpx.Client(timeout=30, headers={"accept-encoding": coding}) as client:
        with client.stream("GET", f"{base_url}/feeds/all.json") as get:
            raw = b"".join(get.iter_raw())
        head = client.head(f"{base_url}/feeds/all.json")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(raw))
    for h in ("etag", "last-modified", "content-type", "cache-control", "vary"):
        assert head.headers[h] == get.headers[h]
    assert head.headers.get("content-encoding") == get.headers.get("content-encoding")


# --- compression ---------------------------------------------------------------------------

def _raw(client: httpx.Client, url: str, **headers: str) -> httpx.Response:
    """The response with its body as sent (not decoded), in `response.raw`."""
    with client.stream("GET", url, headers=headers) as r:
        r.raw = b"".join(r.iter_raw())  # type: ignore[attr-defined]
    return r


@pytest.mark.parametrize("name", ["all.atom", "all.rss", "all.json", "index.opml"])
def test_gzip_bytes_decompress_to_the_file_and_have_their_own_etag(
        base_url: str, feed_dir: Path, name: str) -> None:
    url = f"{base_url}/feeds/{name}"
    with httpx.Client(timeout=30) as client:
        plain = _raw(client, url, **{"accept-encoding": "identity"})
        packed = _raw(client, url, **{"accept-encoding": "gzip, deflate, br"})
    identity = (feed_dir / name).read_bytes()
    assert plain.raw == identity and "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed.raw) == identity
    assert len(packed.raw) < len(identity) / 2
    assert packed.headers["content-length"] == str(len(packed.raw))
    assert packed.headers["etag"] != plain.headers["etag"]
    for r in (plain, packed):
        assert "Accept-Encoding" in r.headers["vary"]
        assert r.headers["content-type"] == TYPES[name]


def test_each_encoding_gets_its_own_304(base_url: str) -> None:
    url = f"{base_url}/feeds/all.atom"
    with httpx.Client(timeout=30) as client:
        tags = {}
        for coding in ("identity", "gzip"):
            tags[coding] = client.get(url, headers={"accept-encoding": coding}).headers["etag"]
        for coding, tag in tags.items():
            r = client.get(url, headers={"accept-encoding": coding, "if-none-match": tag})
            assert (r.status_code, r.content) == (304, b""), coding
            assert r.headers["etag"] == tag and "Accept-Encoding" in r.headers["vary"]
        # The other encoding's tag names another representation: the whole body comes back.
        r = client.get(url, headers={"accept-encoding": "gzip", "if-none-match": tags["identity"]})
        assert r.status_code == 200 and r.headers["etag"] == tags["gzip"]


@pytest.mark.parametrize("accept", ["", "identity", "gzip;q=0", "br", "*;q=0", "deflate"])
def test_clients_that_do_not_accept_gzip_get_the_file_as_it_is(base_url: str,
                                                               accept: str) -> None:
    with httpx.Client(timeout=30) as client:
        r = _raw(client, f"{base_url}/feeds/all.atom", **{"accept-encoding": accept})
    assert r.status_code == 200 and "content-encoding" not in r.headers
    assert r.raw.startswith(b"<?xml")


def test_a_missing_or_stale_gzip_copy_is_never_served(base_url: str, feed_dir: Path) -> None:
    url = f"{base_url}/feeds/all.rss"
    (feed_dir / "all.rss.gz").write_bytes(gzip.compress(b"an older version"))
    files = render_all(Settings(), [bulletin(i) for i in range(1, 6)], T0)
    assert writer.write_if_changed(feed_dir / "all.rss", files["all.rss"])
    with httpx.Client(timeout=30) as client:
        r = _raw(client, url, **{"accept-encoding": "gzip"})
        assert r.raw == files["all.rss"] and "content-encoding" not in r.headers
        (feed_dir / "all.json.gz").unlink()
        r = _raw(client, f"{base_url}/feeds/all.json", **{"accept-encoding": "gzip"})
        assert r.raw == (feed_dir / "all.json").read_bytes()


# --- odd requests --------------------------------------------------------------------------

@pytest.mark.parametrize("length", [251, 255, 256, 300, 5000])
def test_a_long_feed_shaped_name_is_404_not_a_server_error(base_url: str, length: int) -> None:
    name = "a" * (length - len(".atom")) + ".atom"
    with httpx.Client(timeout=30) as client:
        r = client.get(f"{base_url}/feeds/{name}")
    assert r.status_code == 404 and r.content == b"Not Found\n"


def test_an_if_modified_since_in_the_future_is_ignored(base_url: str) -> None:
    url = f"{base_url}/feeds/all.atom"
    future = formatdate(time.time() + 86400, usegmt=True)
    with httpx.Client(timeout=30) as client:
        assert client.get(url, headers={"if-modified-since": future}).status_code == 200


def test_a_browser_gets_an_xml_type_it_applies_the_stylesheet_to(base_url: str) -> None:
    chrome = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
              "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
    url = f"{base_url}/feeds/all.atom"
    with httpx.Client(timeout=30) as client:
        page = client.get(url, headers={"accept": chrome})
        reader = client.get(url, headers={"accept": "application/atom+xml, text/html;q=0.1"})
        json_feed = client.get(f"{base_url}/feeds/all.json", headers={"accept": chrome})
        again = client.get(url, headers={"accept": chrome, "if-none-match": page.headers["etag"]})
    assert page.headers["content-type"] == "application/xml; charset=utf-8"
    assert reader.headers["content-type"] == TYPES["all.atom"]
    assert page.content == reader.content and page.headers["etag"] != reader.headers["etag"]
    assert page.headers["vary"] == "Accept, Accept-Encoding"
    assert json_feed.headers["content-type"] == TYPES["all.json"]
    assert again.status_code == 304


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
