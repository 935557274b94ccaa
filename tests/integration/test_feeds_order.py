"""What readers see of order and corrections: real state databases, read back by feedparser."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.feeds.directory import build_all
from syndicator.feeds.model import entry_id
from syndicator.state import bulletins as store
from tests.feeds_support import T0, bulletin, clean

HOST = "bantin.sonoivu.example"
PAGE = 5


def config(out: Path) -> Settings:
    return Settings(public_base_url=f"https://{HOST}",
                    feeds={"output_dir": str(out), "max_entries": PAGE})


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "feeds"


def ids(numbers: list[int] | range) -> set[str]:
    return {entry_id(HOST, bulletin(i)) for i in numbers}


def atom_ids(path: Path) -> set[str]:
    return {e.id for e in feedparser.parse(path.read_bytes()).entries}


def test_an_edited_old_bulletin_appears_in_all_three_subscription_documents(
        state: sa.Engine, out: Path) -> None:
    with state.begin() as conn:
        for i in range(1, 21):
            store.insert(conn, clean(i), T0 + timedelta(minutes=i), notify=True)
    build_all(config(out), state, T0 + timedelta(hours=1))
    page = (out / "all.archive-1.atom").read_bytes()
    assert entry_id(HOST, bulletin(2)) in atom_ids(out / "all.archive-1.atom")
    assert entry_id(HOST, bulletin(2)) not in atom_ids(out / "all.atom")
    edited_at = T0 + timedelta(days=20)
    with state.begin() as conn:
        known = store.known(conn, ["1002"])["1002"]
        store.update(conn, known, clean(2, title="Thông báo số 2 (đính chính)"), edited_at,
                     known.source_key)
    report = build_all(config(out), state, edited_at)
    assert {"all.atom", "all.rss", "all.json"} <= set(report.written)
    wanted = entry_id(HOST, bulletin(2))
    atom = {e.id: e for e in feedparser.parse((out / "all.atom").read_bytes()).entries}
    assert atom[wanted].title == "Thông báo số 2 (đính chính)"
    assert atom[wanted].updated == "2026-03-22T08:30:00+07:00"  # the edit, in +07:00
    rss = {e.id: e for e in feedparser.parse((out / "all.rss").read_bytes()).entries}
    assert rss[wanted].title == "Thông báo số 2 (đính chính)"
    items = {i["id"]: i for i in json.loads((out / "all.json").read_bytes())["items"]}
    assert items[wanted]["date_modified"] == "2026-03-22T08:30:00+07:00"
    assert len(atom) == len(items) == PAGE
    # Its archive page keeps the same entries and shows the corrected version.
    assert atom_ids(out / "all.archive-1.atom") == ids(range(1, 6))
    assert (out / "all.archive-1.atom").read_bytes() != page


def test_a_first_import_with_shuffled_ids_pages_by_publication_date(state: sa.Engine,
                                                                    out: Path) -> None:
    # The portal's ids do not rise with its dates: we meet the bulletins in a random order.
    numbers = list(range(1, 24))
    random.Random(18).shuffle(numbers)
    imported = T0 + timedelta(days=60)
    with state.begin() as conn:
        for i in numbers:
            store.insert(conn, clean(i), imported, notify=False)
    build_all(config(out), state, imported)
    assert atom_ids(out / "all.atom") == ids(range(19, 24))  # the five newest
    for k in range(1, 5):  # page k: the k-th five, oldest first
        assert atom_ids(out / f"all.archive-{k}.atom") == ids(range(5 * k - 4, 5 * k + 1)), k
    # A later arrival published long ago is filed where it arrived: no page shifts.
    before = {p.name: p.read_bytes() for p in out.glob("all.archive-*.atom")}
    with state.begin() as conn:
        store.insert(conn, clean(90, published_at=T0 - timedelta(days=300)),
                     imported + timedelta(hours=1), notify=False)
        for i in range(24, 29):
            store.insert(conn, clean(i), imported + timedelta(hours=1), notify=False)
    build_all(config(out), state, imported + timedelta(hours=1))
    assert {n: (out / n).read_bytes() for n in before if n != "all.archive-4.atom"} == {
        n: b for n, b in before.items() if n != "all.archive-4.atom"}
    assert atom_ids(out / "all.archive-4.atom") == ids(range(16, 21))
    assert entry_id(HOST, bulletin(90)) in atom_ids(out / "all.archive-5.atom")


def _links(parsed: feedparser.FeedParserDict) -> dict[str, str]:
    return {link.rel: link.href for link in parsed.feed.get("links", [])}


@pytest.mark.parametrize("ext", ["atom", "rss"])
def test_prev_and_next_archive_links_walk_every_page_to_the_end(state: sa.Engine, out: Path,
                                                                ext: str) -> None:
    with state.begin() as conn:
        for i in range(1, 18):
            store.insert(conn, clean(i), T0 + timedelta(minutes=i), notify=True)
    build_all(config(out), state, T0 + timedelta(hours=1))
    by_url = {f"https://{HOST}/feeds/{p.name}": p for p in out.glob(f"*.{ext}")}
    start = f"https://{HOST}/feeds/all.{ext}"
    backwards, url = [], _links(feedparser.parse(by_url[start].read_bytes())).get("prev-archive")
    while url:  # from the subscription document to the oldest page
        backwards.append(url)
        url = _links(feedparser.parse(by_url[url].read_bytes())).get("prev-archive")
    assert [u.rsplit("/", 1)[1] for u in backwards] == [
        f"all.archive-{k}.{ext}" for k in (3, 2, 1)]
    forwards, url, seen = [], backwards[-1], set()
    while url != start:  # from the oldest page forwards, to the subscription document
        forwards.append(url)
        parsed = feedparser.parse(by_url[url].read_bytes())
        assert parsed.bozo == 0
        seen |= {e.id for e in parsed.entries}
        url = _links(parsed)["next-archive"]
    assert forwards == backwards[::-1]
    seen |= {e.id for e in feedparser.parse(by_url[start].read_bytes()).entries}
    assert seen == ids(range(1, 18))
