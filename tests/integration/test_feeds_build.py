"""build_all against real state databases (SQLite, PostgreSQL, MariaDB) and real files."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
import sqlalchemy as sa
from lxml import etree

from syndicator.config.settings import Settings
from syndicator.feeds.directory import build_all
from syndicator.feeds.model import entry_id
from syndicator.state import bulletins as store
from tests.feeds_support import T0, assert_valid, bulletin, clean

HOST = "bantin.sonoivu.example"


def config(out: Path, **feeds: object) -> Settings:
    return Settings(public_base_url=f"https://{HOST}",
                    feeds={"output_dir": str(out), "max_entries": 5, **feeds})


def add(state: sa.Engine, numbers: range, at=T0) -> dict[int, int]:
    """Ingests bulletins as the poller would; returns bulletin number -> our id."""
    with state.begin() as conn:
        return {i: store.insert(conn, clean(i), at, notify=True) for i in numbers}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The feed directory (beside, not inside, the SQLite state file's directory)."""
    return tmp_path / "feeds"


def files(out: Path) -> dict[str, bytes]:
    """The feed files (their gzip copies apart)."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix != ".gz"}


def gzip_copies(out: Path) -> dict[str, bytes]:
    """File name -> the identity bytes its gzip copy holds."""
    return {p.name.removesuffix(".gz"): gzip.decompress(p.read_bytes())
            for p in sorted(out.glob("*.gz"))}


def test_every_file_is_valid_and_a_rebuild_changes_nothing(state: sa.Engine,
                                                             out: Path) -> None:
    add(state, range(1, 9))
    settings = config(out)
    report = build_all(settings, state, T0 + timedelta(hours=1))
    first = files(out)
    assert sorted(report.written) == sorted(first) and not report.unchanged
    for name, data in first.items():
        assert_valid(name, data)
    assert gzip_copies(out) == first  # one per file, of exactly its bytes
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out).iterdir()}
    again = build_all(settings, state, T0 + timedelta(hours=5))
    assert again.written == [] and sorted(again.unchanged) == sorted(first)
    assert files(out) == first
    assert {p.name: p.stat().st_mtime_ns for p in (out).iterdir()} == mtimes


def test_an_edit_keeps_the_entry_id_and_moves_only_updated(state: sa.Engine,
                                                           out: Path) -> None:
    ids = add(state, range(1, 4))
    settings = config(out)
    build_all(settings, state, T0)
    before = feedparser.parse((out / "all.atom").read_bytes()).entries
    edited_at = T0 + timedelta(days=2)
    with state.begin() as conn:
        known = store.known(conn, ["1002"])["1002"]
        store.update(conn, known, clean(2, title="Thông báo số 2 (đính chính)"), edited_at,
                     known.source_key)
    report = build_all(settings, state, edited_at)
    assert "all.atom" in report.written
    after = {e.id: e for e in feedparser.parse((out / "all.atom").read_bytes()).entries}
    assert set(after) == {e.id for e in before}
    edited = after[entry_id(HOST, bulletin(2, first_seen_at=T0))]
    assert edited.title == "Thông báo số 2 (đính chính)"
    assert edited.published == "2026-03-02T10:30:00+07:00"
    assert edited.updated == "2026-03-04T08:30:00+07:00"
    feed = feedparser.parse((out / "all.atom").read_bytes()).feed
    assert feed.updated == "2026-03-04T08:30:00+07:00"
    with state.connect() as conn:
        assert store.known(conn, ["1002"])["1002"].id == ids[2]


def _ids_by_url(out: Path) -> dict[str, set[str]]:
    """Entry link -> the ids it has in any file of the directory (Atom, RSS and JSON)."""
    found: dict[str, set[str]] = {}
    for name, data in files(out).items():
        if name.endswith(".json"):
            pairs = [(i["url"], i["id"]) for i in json.loads(data)["items"]]
        elif not name.endswith(".opml"):
            pairs = [(e.link, e.id) for e in feedparser.parse(data).entries]
        else:
            continue
        for url, id_ in pairs:
            found.setdefault(url, set()).add(id_)
    return found


def test_entry_ids_survive_a_reingest_into_a_fresh_state_database(
        state: sa.Engine, tmp_path: Path) -> None:
    # A migration re-reads the portal months later, in another order, into another database:
    # readers must see the same ids, or every bulletin shows up twice.
    from syndicator.config.databases import create_engine
    from syndicator.state.db import upgrade

    add(state, range(1, 9))
    build_all(config(tmp_path / "old"), state, T0)
    fresh = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}", "database.url")
    upgrade(fresh)
    add(fresh, range(8, 0, -1), at=T0 + timedelta(days=200))
    build_all(config(tmp_path / "new"), fresh, T0 + timedelta(days=200))
    fresh.dispose()
    old, new = _ids_by_url(tmp_path / "old"), _ids_by_url(tmp_path / "new")
    assert len(old) == 8 and all(len(ids) == 1 for ids in old.values())
    assert new == old


def test_a_first_import_shows_the_portals_times_not_the_import_time(state: sa.Engine,
                                                                    out: Path) -> None:
    imported = T0 + timedelta(days=30)  # the portal has had these bulletins for weeks
    portal_edit = bulletin(2).published_at + timedelta(hours=1)
    with state.begin() as conn:
        store.insert(conn, clean(1), imported, notify=False)
        store.insert(conn, clean(2, source_updated_at=portal_edit), imported, notify=False)
    build_all(config(out), state, imported)
    atom = feedparser.parse((out / "all.atom").read_bytes())
    updated = {e.link: e.updated for e in atom.entries}
    assert updated == {bulletin(1).url: "2026-03-02T09:30:00+07:00",
                       bulletin(2).url: "2026-03-02T11:30:00+07:00"}
    assert atom.feed.updated == "2026-03-02T11:30:00+07:00"
    items = {i["url"]: i["date_modified"]
             for i in json.loads((out / "all.json").read_bytes())["items"]}
    assert items[bulletin(2).url] == "2026-03-02T11:30:00+07:00"
    assert build_all(config(out), state, imported + timedelta(days=1)).written == []


def test_a_burst_of_three_times_max_entries_is_reachable_through_archives(
        state: sa.Engine, out: Path) -> None:
    add(state, range(1, 6))
    settings = config(out)
    build_all(settings, state, T0)
    add(state, range(6, 21), at=T0 + timedelta(minutes=1))  # 15 = 3 x max_entries at once
    build_all(settings, state, T0 + timedelta(minutes=1))
    expected = {entry_id(HOST, bulletin(i, first_seen_at=T0)) for i in range(1, 21)}
    for ext, reachable in (("atom", _atom_chain), ("rss", _rss_chain), ("json", _json_chain)):
        assert reachable(out, f"all.{ext}") == expected, ext


def _atom_chain(out: Path, name: str) -> set[str]:
    seen: set[str] = set()
    while name:
        parsed = assert_valid(name, (out / name).read_bytes())
        assert len(parsed.entries) <= 5
        seen |= {e.id for e in parsed.entries}
        prev = [ln.href for ln in parsed.feed.links if ln.rel == "prev-archive"]
        name = prev[0].rsplit("/", 1)[1] if prev else ""
    return seen


def _rss_chain(out: Path, name: str) -> set[str]:
    seen: set[str] = set()
    while name:
        data = (out / name).read_bytes()
        seen |= {e.id for e in assert_valid(name, data).entries}
        prev = [ln for ln in feedparser.parse(data).feed.get("links", [])
                if ln.get("rel") == "prev-archive"]
        name = prev[0]["href"].rsplit("/", 1)[1] if prev else ""
    return seen


def _json_chain(out: Path, name: str) -> set[str]:
    seen: set[str] = set()
    while name:
        doc = json.loads((out / name).read_bytes())
        seen |= {i["id"] for i in doc["items"]}
        name = doc["next_url"].rsplit("/", 1)[1] if "next_url" in doc else ""
    return seen


def _links(name: str, data: bytes) -> set[str]:
    """File names a reader may follow from this file to older pages, or from the OPML."""
    if name.endswith(".json"):
        doc = json.loads(data)
        urls = [doc["next_url"]] if "next_url" in doc else []
    else:
        root = etree.fromstring(data)
        urls = [e.get("xmlUrl") if name.endswith(".opml") else e.get("href")
                for e in root.iter()
                if e.get("rel") == "prev-archive" or (name.endswith(".opml") and e.get("xmlUrl"))]
    return {u.rsplit("/", 1)[1] for u in urls if u}


def _dangling(out: Path) -> list[tuple[str, str]]:
    present = {p.name for p in out.iterdir()}
    return [(name, target) for name in sorted(present)
            if not name.startswith(".") and not name.endswith(".gz")
            for target in _links(name, (out / name).read_bytes()) if target not in present]


def test_no_file_ever_links_to_a_page_not_yet_written(
        state: sa.Engine, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A reader fetching all.atom mid-build follows prev-archive at once: that page (and every
    # feed the OPML lists) must already be on disk, on the first build and after a burst.
    from syndicator.feeds import writer

    real = writer.write_if_changed
    order: list[str] = []

    def checked(path: Path, data: bytes) -> bool:
        changed = real(path, data)
        order.append(path.name)
        assert _dangling(path.parent) == [], f"after writing {path.name}"
        return changed

    monkeypatch.setattr(writer, "write_if_changed", checked)
    add(state, range(1, 13))
    build_all(config(out), state, T0)
    assert order[-1] == "index.opml"
    add(state, range(13, 31), at=T0 + timedelta(minutes=1))  # a burst of 3+ pages
    report = build_all(config(out), state, T0 + timedelta(minutes=1))
    assert "all.archive-6.atom" in report.written and "all.atom" in report.written


def test_a_withdrawal_leaves_every_feed_and_is_announced_in_atom(state: sa.Engine,
                                                                 out: Path) -> None:
    ids = add(state, range(1, 7))
    settings = config(out, tombstone_days=10)
    build_all(settings, state, T0)
    gone = entry_id(HOST, bulletin(3, first_seen_at=T0))
    slug = bulletin(3).category_slug
    assert gone.encode() in (out / f"{slug}.json").read_bytes()
    withdrawn_at = T0 + timedelta(days=1)
    with state.begin() as conn:
        store.withdraw(conn, [ids[3]], withdrawn_at)
    build_all(settings, state, withdrawn_at)
    for name, data in files(out).items():
        assert_valid(name, data)
        if name.endswith((".rss", ".json")):
            assert gone.encode() not in data, name
    for name in ("all.atom", f"{slug}.atom"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert gone not in {e.id for e in parsed.entries}
        assert f'<at:deleted-entry ref="{gone}"'.encode() in (out / name).read_bytes()
    other = bulletin(4).category_slug
    assert b"deleted-entry" not in (out / f"{other}.atom").read_bytes()
    build_all(settings, state, withdrawn_at + timedelta(days=11))
    assert b"deleted-entry" not in (out / "all.atom").read_bytes()


def test_a_category_with_only_withdrawn_bulletins_keeps_an_empty_valid_feed(
        state: sa.Engine, out: Path) -> None:
    ids = add(state, range(1, 2))
    with state.begin() as conn:
        store.withdraw(conn, [ids[1]], T0)
    build_all(config(out), state, T0)
    slug = bulletin(1).category_slug
    parsed = assert_valid(f"{slug}.atom", (out / f"{slug}.atom").read_bytes())
    assert parsed.entries == []


def test_orphaned_files_of_ours_are_removed_and_others_kept(state: sa.Engine,
                                                            out: Path) -> None:
    add(state, range(1, 3))
    out.mkdir()
    (out / "all.archive-9.atom").write_bytes(b"stale")
    (out / "README.txt").write_bytes(b"operator's note")
    report = build_all(config(out), state, T0)
    assert report.removed == ["all.archive-9.atom"]
    assert (out / "README.txt").exists()


def test_a_daemon_rebuild_renders_only_what_changed_and_repairs_tampered_files(
        state: sa.Engine, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicator.feeds import build

    add(state, range(1, 13))
    settings = config(out)
    build_all(settings, state, T0)
    rendered: list[str] = []

    def counting(ext: str, render):  # type: ignore[no-untyped-def]
        def wrapper(doc, feeds_url):  # type: ignore[no-untyped-def]
            rendered.append(f"{doc.stem}.{ext}")
            return render(doc, feeds_url)
        return wrapper

    for ext, render in list(build.RENDERERS.items()):
        monkeypatch.setitem(build.RENDERERS, ext, counting(ext, render))
    assert build_all(settings, state, T0).written == []
    assert rendered == []
    good = (out / "all.archive-1.rss").read_bytes()
    (out / "all.archive-1.rss").write_bytes(b"tampered")
    (out / "all.json").unlink()
    report = build_all(settings, state, T0)
    assert sorted(report.written) == ["all.archive-1.rss", "all.json"]
    assert sorted(rendered) == ["all.archive-1.rss", "all.json"]
    assert (out / "all.archive-1.rss").read_bytes() == good


def test_an_unwritable_feed_directory_is_one_clear_error(state: sa.Engine, out: Path) -> None:
    from syndicator.errors import SyndicatorError

    add(state, range(1, 2))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("a file where the directory should be")
    with pytest.raises(SyndicatorError, match=r"cannot write the feeds in .* \(feeds.output_dir\)"):
        build_all(config(out), state, T0)
