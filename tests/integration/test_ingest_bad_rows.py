"""One bad portal row costs that row only: every other row of the poll arrives, and the bad
ones are reported (log, metric, `source problems`) until they are fixed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicator.config.databases import create_engine
from syndicator.config.settings import Settings
from syndicator.ingest.poll import Poller, PollReport
from syndicator.source.portal import PortalSource
from syndicator.state.db import upgrade
from syndicator.state.problems import current
from syndicator.state.schema import bulletins
from syndicator.telemetry import metrics
from tests.conftest import _scratch_database
from tests.portal import NOW, local

COLUMNS = ("id", "title", "summary", "body_html", "author", "category", "url",
           "published_at", "updated_at", "status")
GOOD_TIME = local(NOW - timedelta(hours=1))


def good(i: int, **fields: Any) -> dict[str, Any]:
    return {"id": i, "title": f"Bản tin {i}", "summary": "Tóm tắt", "body_html": "<p>x</p>",
            "author": "Tác giả", "category": "Thi đua", "url": f"https://p.example/{i}",
            "published_at": GOOD_TIME, "updated_at": GOOD_TIME, "status": "published"} | fields


class SqlitePortal:
    """A portal table as loose as SQLite allows: an INT id that is not a rowid (NULL, text and
    duplicates fit), and columns that keep what they are given."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE bulletins (id INT, title, summary, body_html, author, "
                         "category, url, published_at, updated_at, status)")
            conn.execute("CREATE INDEX ix_bulletins_id ON bulletins (id)")

    def insert(self, row: dict[str, Any], raw_text: dict[str, bytes] | None = None) -> None:
        """`raw_text`: fields stored as TEXT holding these bytes (not valid UTF-8)."""
        raw_text = raw_text or {}
        cols = [c for c in COLUMNS if c in row or c in raw_text]
        marks = ["CAST(? AS TEXT)" if c in raw_text else "?" for c in cols]
        values = [raw_text[c] if c in raw_text else _plain(row[c]) for c in cols]
        with sqlite3.connect(self.path) as conn:
            conn.execute(f"INSERT INTO bulletins ({', '.join(cols)}) "
                         f"VALUES ({', '.join(marks)})", values)

    def update(self, source_id: Any, **fields: Any) -> None:
        sets = ", ".join(f"{c} = ?" for c in fields)
        with sqlite3.connect(self.path) as conn:
            conn.execute(f"UPDATE bulletins SET {sets} WHERE id = ?",
                         [*map(_plain, fields.values()), source_id])


def _plain(value: Any) -> Any:
    return value.isoformat(sep=" ") if hasattr(value, "isoformat") else value


class Ingest:
    def __init__(self, state_url: str, portal_url: str, engine: sa.Engine | None = None):
        self.settings = Settings(source={"url": portal_url})
        self.state = create_engine(state_url, "database.url")
        upgrade(self.state)
        self.source = PortalSource(self.settings.source, self.settings.tz, engine=engine)
        self.now = NOW
        self.poller = Poller(self.settings, self.source, self.state, clock=lambda: self.now)

    def poll(self) -> PollReport:
        self.now += timedelta(minutes=1)
        return self.poller.poll()

    def titles(self) -> dict[str, str]:
        with self.state.connect() as conn:
            return dict(conn.execute(sa.select(bulletins.c.source_id, bulletins.c.title)).all())

    def problems(self) -> dict[str, tuple[str, str]]:
        with self.state.connect() as conn:
            return {p.source_id: (p.field, p.reason) for p in current(conn)}


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[tuple[SqlitePortal, Ingest]]:
    portal = SqlitePortal(tmp_path / "portal.db")
    ingest = Ingest(f"sqlite:///{tmp_path / 'state.db'}", f"sqlite:///{tmp_path / 'portal.db'}")
    yield portal, ingest
    ingest.state.dispose()
    ingest.source.engine.dispose()


def test_every_kind_of_bad_row_is_skipped_and_listed_on_sqlite(
        sqlite_pair: tuple[SqlitePortal, Ingest]) -> None:
    portal, ingest = sqlite_pair
    for i in (1, 2, 3):
        portal.insert(good(i))
    portal.insert(good(4), raw_text={"title": b"Hi\xff\xfe"})  # "Could not decode to UTF-8"
    portal.insert(good(5), raw_text={"status": b"publ\xe9shed"})  # a key column
    portal.insert(good(None))  # NULL id
    portal.insert(good("abc"))  # text in the INT id column
    portal.insert(good(6, published_at="0001-01-01 00:00:00"))  # before year 1 in UTC
    portal.insert(good(7, published_at=12345))  # a number where a date belongs
    portal.insert(good(8, published_at="x" * 100_000))  # a huge value
    portal.insert(good(9, category="c" * 300))
    portal.insert(good(10, title="A"))
    portal.insert(good(10, title="B"))  # a duplicate id
    portal.insert(good(2.5))  # a REAL in the INT column
    before = metrics.exposition()
    report = ingest.poll()

    titles = ingest.titles()
    assert {sid: titles[sid] for sid in ("1", "2", "3")} == {
        "1": "Bản tin 1", "2": "Bản tin 2", "3": "Bản tin 3"}
    assert titles["10"] == "A"  # the same one of the two at every poll, and reported
    assert not {"4", "5", "6", "7", "8", "9"} & set(titles)
    listed = ingest.problems()
    assert listed["4"] == ("title", "encoding")
    assert listed["5"] == ("status", "encoding")
    assert listed[""] == ("id", "id") and listed["abc"] == ("id", "id")
    assert listed["2.5"] == ("id", "id")
    assert listed["6"] == ("published_at", "date") and listed["7"] == ("published_at", "date")
    assert listed["8"] == ("published_at", "date") and listed["9"] == ("category", "too_long")
    assert listed["10"] == ("id", "duplicate_id")
    assert len(report.errors) == len(listed)
    assert b'syndicator_source_rows_skipped_now{reason="encoding"} 2.0' in metrics.exposition()
    assert before != metrics.exposition()

    # Later rows keep coming; a fixed row arrives and leaves the list.
    portal.insert(good(11))
    portal.update(4, title="Đã sửa", updated_at=local(ingest.now))
    ingest.poll()
    assert ingest.titles()["11"] == "Bản tin 11" and ingest.titles()["4"] == "Đã sửa"
    assert "4" not in ingest.problems()


def test_a_stray_copy_of_an_id_never_hides_the_good_row(
        sqlite_pair: tuple[SqlitePortal, Ingest]) -> None:
    """Rows sharing an id: the first (in a fixed order) that reads as a public bulletin is
    used, whichever order the portal returns them in; the duplicate stays reported. Found by
    the property test: a text id "1" beside row 1, holding only NULLs, hid bulletin 1."""
    portal, ingest = sqlite_pair
    portal.insert({"id": "12", "title": None, "category": "", "status": None})
    portal.insert(good(12))
    portal.insert(good(13))
    portal.insert(good(13, published_at="hôm qua", title="Bản sai"))  # an unreadable date
    portal.insert(good(14, status="draft", title="Nháp"))
    portal.insert(good(14))
    portal.insert(good(15))  # alone: a control
    ingest.poll()
    ingest.poll()  # the next poll keeps the same choice

    titles = ingest.titles()
    assert {sid: titles.get(sid) for sid in ("12", "13", "14", "15")} == {
        "12": "Bản tin 12", "13": "Bản tin 13", "14": "Bản tin 14", "15": "Bản tin 15"}
    listed = ingest.problems()
    assert {sid for sid, (_, reason) in listed.items() if reason == "duplicate_id"} >= {"14"}
    assert {"12", "13", "14"} <= set(listed) and "15" not in listed


def test_a_driver_that_fails_the_whole_fetch_is_read_in_halves(tmp_path: Path) -> None:
    """Without our text_factory, SQLite fails the fetch of 1,000 rows on one stray byte: the
    batch is read again in halves down to that row, the 999 others arrive, and paging goes
    on past it (the page counts the row it could not read)."""
    portal = SqlitePortal(tmp_path / "portal.db")
    for i in range(1, 1101):
        if i == 640:
            portal.insert(good(i), raw_text={"body_html": b"<p>\xc3\x28</p>"})
        else:
            portal.insert(good(i))
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    plain = sa.create_engine(url)  # the driver's own decoding
    with plain.connect() as conn, pytest.raises(sa.exc.OperationalError, match="decode"):
        conn.execute(sa.text("SELECT * FROM bulletins")).all()
    ingest = Ingest(f"sqlite:///{tmp_path / 'state.db'}", url, engine=plain)
    report = ingest.poll()
    assert len(ingest.titles()) == 1099 and "640" not in ingest.titles()
    assert [(e.source_id, e.reason) for e in report.errors] == [("640", "encoding")]
    assert "cannot be read" in report.errors[0].problem
    plain.dispose()


def test_keyset_paging_passes_rows_it_cannot_read(sqlite_pair: tuple[SqlitePortal, Ingest],
                                                  ) -> None:
    """A page whose last row is unreadable still moves the cursor: a sweep never stops."""
    portal, ingest = sqlite_pair
    portal.insert(good(1))
    portal.insert(good(2.5))  # sorts between 2 and 3, and is no integer id
    portal.insert(good(3))
    first = ingest.source.after(None, 2, keys_only=True)
    assert [r.key for r in first.rows] == ["1"] and first.after == "2.5" and first.full
    rest = ingest.source.after(first.after, 2, keys_only=True)
    assert [r.key for r in rest.rows] == ["3"] and not rest.full
    text_id = ingest.source.after("3", 2)  # past the last number: text keys, bound as text
    assert text_id.rows == [] and not text_id.full
    assert ingest.source.by_ids(["abc", "1"])[0].key == "1"  # no ValueError in _bind_id


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_stray_bytes_in_binary_and_latin1_columns_on_servers(kind: str, tmp_path: Path) -> None:
    """Servers keep encodings straight; what is left are bytes in binary columns (read as
    UTF-8, else Windows-1258) and latin1 columns (the server converts): the rows arrive."""
    gens = [_scratch_database(kind), _scratch_database(kind)]
    state_url, portal_url = (next(g) for g in gens)
    engine = create_engine(portal_url, "portal")
    binary = "BYTEA" if kind == "postgresql" else "LONGBLOB"
    latin1 = "TEXT" if kind == "postgresql" else "TEXT CHARACTER SET latin1"
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"CREATE TABLE bulletins (id INTEGER PRIMARY KEY, title {binary}, "
            f"summary {latin1}, body_html TEXT, author {binary}, category TEXT, url TEXT, "
            "published_at TEXT, updated_at TEXT, status TEXT)"))
        for i, title in ((1, "Sở Nội vụ".encode()), (2, b"S\xd2 N\xf4i v\xf2 \xff\x00"),
                         (3, b"ok")):
            conn.execute(sa.text(
                "INSERT INTO bulletins VALUES (:i, :t, :s, '<p>x</p>', :a, 'Thi đua', :u, "
                ":p, :p, 'published')"),
                {"i": i, "t": title, "s": "café ÿ", "a": b"\x81\x8d\x8f", "u": f"https://p/{i}",
                 "p": str(GOOD_TIME)})
        conn.execute(sa.text("INSERT INTO bulletins VALUES (4, :t, NULL, NULL, NULL, NULL, "
                             "'https://p/4', 'hôm qua', NULL, 'published')"), {"t": b"x"})
    ingest = Ingest(state_url, portal_url)
    try:
        report = ingest.poll()
        titles = ingest.titles()
        assert titles["1"] == "Sở Nội vụ" and titles["3"] == "ok" and "2" in titles
        assert [(e.source_id, e.field) for e in report.errors] == [("4", "published_at")]
        assert ingest.problems() == {"4": ("published_at", "date")}
    finally:
        ingest.state.dispose()
        ingest.source.engine.dispose()
        engine.dispose()
        for g in gens:
            g.close()
