"""The route's in-memory cache: bounded, and never serves bytes of a replaced file."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from syndicator.feeds import writer
from syndicator.web.feeds import FeedFiles


def client(directory: Path, budget: int) -> tuple[httpx.AsyncClient, FeedFiles]:
    files = FeedFiles(directory, budget=budget)
    app = Starlette(routes=[Route("/feeds/{name}", files, methods=["GET", "HEAD"])])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t"), files


async def test_the_cache_stays_within_its_budget_and_answers_correctly(tmp_path: Path) -> None:
    for n in range(5):
        writer.write_if_changed(tmp_path / f"c{n}.atom", bytes([65 + n]) * 1000)
    http, files = client(tmp_path, budget=2500)
    for _ in range(2):
        for n in range(5):
            r = await http.get(f"/feeds/c{n}.atom")
            assert r.content == bytes([65 + n]) * 1000
    assert files._size <= 2500 and len(files._cache) == 2


async def test_a_replaced_file_is_served_fresh(tmp_path: Path) -> None:
    writer.write_if_changed(tmp_path / "all.json", b"[1]")
    http, _ = client(tmp_path, budget=10_000)
    first = await http.get("/feeds/all.json")
    writer.write_if_changed(tmp_path / "all.json", b"[2]")  # same size, maybe same mtime
    second = await http.get("/feeds/all.json", headers={"if-none-match": first.headers["etag"]})
    assert (second.status_code, second.content) == (200, b"[2]")
    (tmp_path / "all.json").unlink()
    assert (await http.get("/feeds/all.json")).status_code == 404
