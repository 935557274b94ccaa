"""WebSub: the hub is advertised and pinged for changed feeds; a dead hub never fails a build."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from syndicator.config.databases import create_engine
from syndicator.config.settings import Settings
from syndicator.feeds.directory import build_all
from syndicator.state import bulletins as store
from syndicator.state.db import upgrade
from tests.feeds_support import T0, clean


class Hub(BaseHTTPRequestHandler):
    pings: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        Hub.pings.append(parse_qs(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub() -> Iterator[str]:
    Hub.pings = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def engine_with(tmp_path: Path, numbers: range):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}", "database.url")
    upgrade(engine)
    with engine.begin() as conn:
        for i in numbers:
            store.insert(conn, clean(i), T0, notify=True)
    return engine


def test_changed_subscription_documents_are_pinged_once(tmp_path: Path, hub: str) -> None:
    engine = engine_with(tmp_path, range(1, 3))
    settings = Settings(public_base_url="https://bantin.example",
                        feeds={"output_dir": str(tmp_path / "feeds"), "websub_hub": hub})
    build_all(settings, engine, T0)
    topics = sorted(p["hub.url"][0] for p in Hub.pings)
    assert all(p["hub.mode"] == ["publish"] for p in Hub.pings)
    assert "https://bantin.example/feeds/all.atom" in topics
    assert not any(t.endswith("index.opml") or ".archive-" in t for t in topics)
    assert b'rel="hub"' in (tmp_path / "feeds" / "all.atom").read_bytes()
    assert b'rel="hub"' in (tmp_path / "feeds" / "all.rss").read_bytes()
    Hub.pings = []
    build_all(settings, engine, T0)
    assert Hub.pings == []  # nothing changed, nothing to announce


def test_an_unreachable_hub_is_logged_not_raised(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    engine = engine_with(tmp_path, range(1, 3))
    settings = Settings(feeds={"output_dir": str(tmp_path / "feeds"), "websub_hub": dead})
    report = build_all(settings, engine, T0)
    assert "all.atom" in report.written
