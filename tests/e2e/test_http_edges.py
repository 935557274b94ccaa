"""Every route under hostile requests, with PostgreSQL up and then really gone (a TCP proxy in
front of it is stopped): never a bare 500, 503 pages in Vietnamese while the state database
is away (logged once), feeds still served, bodies refused before they are read, memory
bounded, and no password, host or database name in what the public sees."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicator.subscribers.tokens import Tokens
from tests.conftest import _scratch_database
from tests.e2e.daemon import Daemon, clean_env, cli, free_port
from tests.support import rawhttp
from tests.support.tcpproxy import TcpProxy

pytestmark = pytest.mark.postgres

KEY = "edges-test-signing-key-0123456789abcdef"
QUERY_PASSWORD = "Qry-Secr3t-never-shown"
TOKENS = Tokens(KEY)
MB = 1024 * 1024


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _scratch_database("postgresql")


@pytest.fixture
def outage(tmp_path: Path, pg_url: str) -> Iterator[tuple[Daemon, TcpProxy, str]]:
    """A daemon whose state database is PostgreSQL behind a proxy the test can stop; the URL
    carries a password in its query string (trust auth ignores it), to be masked everywhere."""
    url = sa.make_url(pg_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    state = url.set(port=proxy.port).render_as_string(hide_password=False)
    state += f"?password={QUERY_PASSWORD}"
    port = free_port()
    env = clean_env(database__url=state, http__port=str(port), poll__interval_seconds="2",
                    security__secret_key=KEY, subscriptions__requests_per_client_per_hour="0")
    done = cli(tmp_path, env, "demo")
    assert done.returncode == 0, done.stderr
    daemon = Daemon(tmp_path, env, port).start()
    try:
        daemon.wait_ready()
        yield daemon, proxy, str(url.database)
    finally:
        daemon.kill()
        proxy.stop()


def _pages() -> dict[str, list[str]]:
    """Every page route that touches the state database, with the methods it takes."""
    return {"/subscribe": ["GET", "POST"], "/manage": ["POST"],  # its GET needs no database
            f"/confirm/{TOKENS.make('confirm', 2, 0)}": ["GET", "POST"],
            f"/preferences/{TOKENS.make('manage', 2, 0)}": ["GET", "POST"],
            f"/unsubscribe/{TOKENS.make('unsubscribe', 2, 0)}": ["GET", "POST"],
            "/digests/d-2026-12-04-daily": ["GET"]}


PATHS = [*_pages(), "/confirm/garbage", "/unsubscribe/abc", "/digests/" + "x" * 80,
         "/feeds/all.atom", "/feeds/all.json", "/feeds/../config.yaml", "/feeds/%00",
         "/healthz/live", "/healthz/ready", "/metrics", "/admin/", "/admin/login",
         "/admin/agencies/import", "/nothing-here", "/"]
SUFFIXES = ["", "?size=large", "?text_size=%ff%fe", "?%00=%00", "/more", "?" + "q" * 3000]
CONTENT_TYPES = [None, "application/x-www-form-urlencoded",
                 "application/x-www-form-urlencoded; charset=latin-1",
                 "multipart/form-data; boundary=XyZ", "multipart/form-data",
                 "multipart/form-data; boundary=" + "b" * 300, "text/plain",
                 "application/json", "application/x-www-form-urlencoded; charset=utf-16"]
HEADERS = [("Content-Encoding", "gzip"), ("X-Forwarded-For", "203.0.113.9, 10.0.0.1, ???"),
           ("X-Forwarded-Proto", "https"), ("Accept-Encoding", "gzip, br, *"),
           ("If-None-Match", '"nope", *'), ("If-Modified-Since", "not a date"),
           ("Cookie", "c=" + "x" * 3000), ("Accept-Language", "vi, en;q=0.1"),
           ("Expect", "100-continue"), ("Range", "bytes=0-10,5-1"),
           ("Origin", "https://evil.example"), ("Referer", "\u00ff\u00fe")]


def _multipart(fields: dict[str, str], file_field: str | None) -> bytes:
    parts = [f'--XyZ\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in fields.items()]
    if file_field:
        parts.append(f'--XyZ\r\nContent-Disposition: form-data; name="{file_field}"; '
                     'filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n')
    return ("".join(parts) + "--XyZ--\r\n").encode()


def _bodies(form_token: str) -> st.SearchStrategy[bytes]:
    fields = st.dictionaries(
        st.sampled_from(["email", "name", "frequency", "category", "text_size", "consent",
                         "form_token", "website", "action", "List-Unsubscribe", "size"]),
        st.one_of(st.text(max_size=300), st.just(form_token), st.just("One-Click"),
                  st.just("x@ubnd.example.gov.vn")), max_size=8)
    return st.one_of(
        st.binary(max_size=3000),
        fields.map(lambda f: urlencode(f).encode()),
        st.tuples(fields, st.sampled_from([None, "name", "email"])).map(
            lambda t: _multipart(*t)),
        st.just(b"List-Unsubscribe=One-Click"),
        st.just(b"a=" + b"b" * (70 * 1024)),  # past the forms' limit
    )


def _fuzz(daemon: Daemon, form_token: str, examples: int, db_down: bool) -> list[int]:
    seen: list[int] = []

    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                                   "HEAD", "PROPFIND"]),
           path=st.sampled_from(PATHS), suffix=st.sampled_from(SUFFIXES),
           content_type=st.sampled_from(CONTENT_TYPES),
           headers=st.lists(st.sampled_from(HEADERS), max_size=4),
           body=_bodies(form_token), chunked=st.booleans())
    def one(method: str, path: str, suffix: str, content_type: str | None,
            headers: list[tuple[str, str]], body: bytes, chunked: bool) -> None:
        sent = [*headers, *([("Content-Type", content_type)] if content_type else [])]
        raw = rawhttp.build(method, (path + suffix).encode(), sent, body, chunked)
        answer = rawhttp.request(daemon.port, raw)
        seen.append(answer.status)
        assert answer.status != 500, (method, path, answer.head, answer.body[:300])
        if 500 < answer.status < 600:  # a page saying the database is away, and when to retry
            assert answer.status == 503, answer.head
            assert db_down or path.startswith("/healthz/ready"), (method, path, answer.head)
            if not path.startswith("/healthz"):
                assert answer.header("Retry-After") == "30", answer.head
                assert "tạm thời không dùng được" in answer.body.decode(), answer.body[:300]

    one()
    return seen


def _form_token(daemon: Daemon, page_path: str = "/subscribe") -> str:
    page = daemon.get(page_path).text
    return page.split('name="form_token" value="', 1)[1].split('"', 1)[0]


def _memory_holds(daemon: Daemon) -> tuple[int, int]:
    """Declared and chunked bodies far past the limit: (largest body taken, RSS growth)."""
    assert daemon.proc is not None
    before = rawhttp.rss_bytes(daemon.proc.pid)
    taken = 0
    for i in range(6):
        answer, sent = rawhttp.stream(daemon.port, b"/unsubscribe/abc", 300 * MB,
                                      declared=i % 2 == 0)
        assert answer.status in (413, 0), answer.head  # 0: the answer lost to the reset
        taken = max(taken, sent)
    return taken, rawhttp.rss_bytes(daemon.proc.pid) - before


def test_every_route_holds_with_the_state_database_up_then_gone(
        outage: tuple[Daemon, TcpProxy, str]) -> None:
    daemon, proxy, db_name = outage
    token, manage_token = _form_token(daemon), _form_token(daemon, "/manage")
    up = _fuzz(daemon, token, examples=250, db_down=False)
    assert {200, 400, 404, 405, 413} <= set(up)
    taken, growth = _memory_holds(daemon)
    assert taken < 64 * MB, f"the server read {taken} bytes of a refused body"
    assert growth < 48 * MB, f"RSS grew by {growth / MB:.0f} MB"
    print(f"database up: largest refused body read {taken / MB:.1f} MB, "
          f"RSS growth {growth / MB:.1f} MB")

    proxy.stop()  # PostgreSQL is gone: refused connections, pooled ones cut
    try:
        daemon.wait_for("/healthz/ready = 503 for the state database", lambda: (
            "state database unreachable" in daemon.get("/healthz/ready").json().get(
                "reasons", [])))
        ready = daemon.get("/healthz/ready")
        public = ready.text
        for secret in (QUERY_PASSWORD, db_name, "127.0.0.1", str(proxy.port), "postgres"):
            assert secret not in public, public
        assert ready.status_code == 503
        for path, methods in _pages().items():
            for method in methods:
                data = ({"List-Unsubscribe": "One-Click"} if path.startswith("/unsubscribe")
                        else {"form_token": manage_token if path == "/manage" else token,
                              "email": "a@ubnd.example.gov.vn", "consent": "1"})
                r = daemon.get(path) if method == "GET" else httpx.post(
                    daemon.base + path, data=data, timeout=10)
                assert r.status_code == 503, (method, path, r.status_code, r.text[:300])
                assert r.headers["retry-after"] == "30"
                assert '<html lang="vi"' in r.text and "tạm thời không dùng được" in r.text
        feed = daemon.get("/feeds/all.atom")
        assert feed.status_code == 200 and b"<feed" in feed.content  # from the files
        down = _fuzz(daemon, token, examples=120, db_down=True)
        assert 503 in down
        taken, growth = _memory_holds(daemon)
        assert taken < 64 * MB and growth < 48 * MB
        print(f"database down: largest refused body read {taken / MB:.1f} MB, "
              f"RSS growth {growth / MB:.1f} MB")
    finally:
        proxy.start()
    daemon.wait_ready()
    time.sleep(1)
    events = daemon.log_events()
    names = [e["event"] for e in events]
    assert names.count("state.unavailable") == 1, [e for e in events if "state" in e["event"]]
    assert names.count("state.available") == 1
    text = daemon.logs_text()
    assert "Traceback" not in text and "Exception in ASGI application" not in text
    assert QUERY_PASSWORD not in text
    code, seconds = daemon.stop()
    assert code == 0 and seconds < 10
    assert QUERY_PASSWORD not in json.dumps(events)
