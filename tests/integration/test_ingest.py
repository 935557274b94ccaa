"""Ingest on real databases: new, changed, withdrawn, deleted, late and hostile bulletins."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from syndicator.dburl import create_engine
from syndicator.errors import SourceSchemaError
from syndicator.ingest.poll import Poller
from syndicator.settings import Settings
from syndicator.source.portal import PortalSource
from syndicator.state.db import upgrade
from syndicator.state.schema import bulletins
from tests.portal import NOW, Portal


class Harness:
    """A portal, our state database and a poller with a hand-driven clock."""

    def __init__(self, state_url: str, portal_url: str, **overrides: Any) -> None:
        source = {"url": portal_url} | overrides.pop("source", {})
        self.settings = Settings(source=source, **overrides)
        self.portal = Portal(portal_url, table=self.settings.source.table,
                             columns=_columns(self.settings),
                             published=self.settings.source.published_status)
        self.state = create_engine(state_url, "database.url")
        upgrade(self.state)
        self.now = NOW
        self.source = PortalSource(self.settings.source, self.settings.tz)
        self.poller = Poller(self.settings, self.source, self.state, clock=lambda: self.now)

    def poll(self, advance: timedelta = timedelta(minutes=1)) -> Any:
        self.now += advance
        return self.poller.poll()

    def stored(self, source_id: int) -> Any:
        with self.state.connect() as conn:
            return conn.execute(sa.select(bulletins).where(
                bulletins.c.source_id == str(source_id))).one()

    def close(self) -> None:
        self.state.dispose()
        self.source.engine.dispose()
        self.portal.engine.dispose()


def _columns(settings: Settings) -> dict[str, str]:
    cols = settings.source.columns
    return {f: getattr(cols, f) for f in type(cols).model_fields if getattr(cols, f)}


@pytest.fixture
def h(db_pair: tuple[str, str]) -> Iterator[Harness]:
    harness = Harness(*db_pair)
    yield harness
    harness.close()


def test_first_poll_ingests_public_rows_only(h: Harness) -> None:
    h.portal.insert(1)
    h.portal.insert(2, status="draft")
    h.portal.insert(3, published_at=NOW + timedelta(days=2))  # scheduled
    report = h.poll()
    assert len(report.new) == 1
    row = h.stored(1)
    assert row.state == "public" and row.first_seen_at == h.now and row.notify


def test_edit_updates_without_announcing_again(h: Harness) -> None:
    h.portal.insert(1)
    h.poll()
    h.portal.update(1, updated_at=h.now + timedelta(seconds=30), title="Tiêu đề đã sửa")
    report = h.poll()
    assert report.new == [] and len(report.changed) == 1
    row = h.stored(1)
    assert row.title == "Tiêu đề đã sửa" and row.revision == 2
    assert row.first_seen_at == NOW + timedelta(minutes=1)  # unchanged by the edit
    assert h.poll().changed == []  # an unchanged row is not "changed" again


def test_unpublished_and_deleted_rows_are_withdrawn(h: Harness) -> None:
    for i in (1, 2, 3):
        h.portal.insert(i)
    h.poll()
    h.portal.update(1, updated_at=h.now, status="draft")
    h.portal.delete(2)
    report = h.poll()
    assert len(report.withdrawn) == 2
    assert h.stored(1).state == "withdrawn" and h.stored(2).state == "withdrawn"
    assert h.stored(3).state == "public"
    h.portal.update(1, updated_at=h.now, status="published")
    back = h.poll()
    assert back.new == [] and len(back.changed) == 1  # back in feeds, not mailed twice
    assert h.stored(1).state == "public"


def test_scheduled_bulletin_appears_when_its_time_comes(h: Harness) -> None:
    h.portal.insert(1, published_at=NOW + timedelta(minutes=30))
    assert h.poll().new == []
    assert h.poll(timedelta(minutes=45)).new != []
    assert h.stored(1).first_seen_at == NOW + timedelta(minutes=46)


def test_backdated_row_committed_late_without_updated_at_is_found(h: Harness) -> None:
    h.portal.insert(1)
    h.poll()
    h.poll(timedelta(hours=2))
    # Backdated three days and no updated_at: outside every time window.
    h.portal.insert(2, published_at=NOW - timedelta(days=3), updated_at=None)
    report = h.poll()
    assert len(report.new) == 1
    row = h.stored(2)
    assert row.first_seen_at == h.now and row.notify  # its digest is decided by when we saw it


def test_first_import_of_an_archive_does_not_announce_old_bulletins(h: Harness) -> None:
    h.portal.insert(1, published_at=NOW - timedelta(days=400))
    h.portal.insert(2, published_at=NOW - timedelta(hours=3))
    report = h.poll()
    assert len(report.new) == 1 and len(report.archived) == 1
    assert not h.stored(1).notify and h.stored(2).notify


def test_bad_row_is_reported_and_the_rest_goes_on(h: Harness) -> None:
    h.portal.insert(1)
    h.portal.insert(2, title="   ")
    h.portal.insert(3, url="javascript:alert(1)")
    report = h.poll()
    assert len(report.new) == 1
    assert sorted((e.source_id, e.field) for e in report.errors) == [("2", "title"),
                                                                     ("3", "url")]


def test_a_later_broken_edit_keeps_the_last_good_copy(h: Harness) -> None:
    h.portal.insert(1)
    h.poll()
    h.portal.update(1, updated_at=h.now, title="")
    report = h.poll()
    assert [e.source_id for e in report.errors] == ["1"]
    row = h.stored(1)
    assert row.state == "public" and row.title == "Bản tin số 1"


def test_hostile_content_is_cleaned_on_ingest(h: Harness) -> None:
    long_title = "Tiêu đề rất dài " * 32  # 512 characters
    h.portal.insert(
        1,
        title=unicodedata.normalize("NFD", "Hướng dẫn\r\nBcc: victim@example.org\x0b"),
        author="Thanh\nThuyên\x1b",
        category="Thi đua\r\n- Khen thưởng",
        body_html='<p onclick="x()">Xin chào<script>alert(1)</script>'
                  '<img src="/a.png" onerror="alert(1)"><a href="javascript:evil()">x</a>'
                  '<a href="/van-ban/7">văn bản</a></p>',
    )
    h.portal.insert(2, title=long_title)
    h.poll()
    row = h.stored(1)
    assert row.title == "Hướng dẫn Bcc: victim@example.org"
    assert unicodedata.is_normalized("NFC", row.title)
    assert row.author == "Thanh Thuyên" and row.category == "Thi đua - Khen thưởng"
    assert row.category_slug == "thi-dua-khen-thuong"
    for bad in ("script", "onerror", "onclick", "javascript:", "alert"):
        assert bad not in row.body_html
    assert 'href="https://portal.example/van-ban/7"' in row.body_html
    assert 'src="https://portal.example/a.png"' in row.body_html
    assert h.stored(2).title == long_title.strip()  # never truncated


def test_old_bulletin_deleted_is_found_by_the_rotating_sweep(db_pair: tuple[str, str]) -> None:
    h = Harness(*db_pair, ingest={"hot_days": 1, "sweep_batch": 10},
                feeds={"max_entries": 1})
    try:
        for i in range(1, 26):
            h.portal.insert(i, published_at=NOW - timedelta(days=10, minutes=i))
        h.poll()
        h.poll(timedelta(days=2))  # nothing is "hot" any more
        h.portal.delete(7)
        withdrawn: list[int] = []
        for _ in range(4):  # 25 public rows, 10 verified per poll
            withdrawn += h.poll().withdrawn
        assert len(withdrawn) == 1 and h.stored(7).state == "withdrawn"
    finally:
        h.close()


def test_other_column_names_through_config_only(db_pair: tuple[str, str]) -> None:
    columns = {"id": "ma_tin", "title": "tieu_de", "summary": "tom_tat", "body_html": "noi_dung",
               "author": "tac_gia", "category": "chuyen_muc", "url": "duong_dan",
               "published_at": "ngay_dang", "updated_at": None, "status": "trang_thai"}
    h = Harness(*db_pair, source={"table": "tin_bai", "columns": columns,
                                  "published_status": "da_xuat_ban"})
    try:
        h.portal.insert(5, title="Tin theo sơ đồ khác")
        h.portal.insert(6, status="nhap")
        h.portal.insert(7)
        report = h.poll()
        assert len(report.new) == 2 and h.stored(5).title == "Tin theo sơ đồ khác"
        # No updated_at column here: an edit shows by its new publication time.
        h.portal.update(5, updated_at=h.now, published_at=h.now, title="Tin đã sửa")
        h.portal.delete(7)
        h.portal.insert(8)
        again = h.poll()
        assert (len(again.new), len(again.changed), len(again.withdrawn)) == (1, 1, 1)
        assert h.stored(5).title == "Tin đã sửa" and h.stored(7).state == "withdrawn"
        assert again.errors == []
    finally:
        h.close()


def test_missing_mapped_column_names_it(db_pair: tuple[str, str]) -> None:
    h = Harness(*db_pair)
    try:
        settings = Settings(source={"url": db_pair[1], "columns": {"author": "nguoi_viet"}})
        with pytest.raises(SourceSchemaError, match="no column 'nguoi_viet'.*columns.author"):
            PortalSource(settings.source, settings.tz).describe()
        missing = Settings(source={"url": db_pair[1], "table": "khong_co"})
        with pytest.raises(SourceSchemaError, match="'khong_co' does not exist"):
            PortalSource(missing.source, missing.tz).describe()
    finally:
        h.close()


def test_the_source_connection_cannot_write(h: Harness) -> None:
    h.portal.insert(1)
    h.poll()
    with pytest.raises(sa.exc.DBAPIError):
        with h.source.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM bulletins"))
    with h.portal.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM bulletins")) == 1


def test_text_timestamps_are_read_and_bad_ones_named(db_pair: tuple[str, str]) -> None:
    """Some portals keep dates as text (ISO or dd/mm/yyyy); garbage names its row and field."""
    h = Harness(*db_pair)
    try:
        h.portal.engine.dispose()
        with h.portal.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE bulletins"))
        h.portal = Portal(db_pair[1], ts_type=sa.String(40))
        h.portal.insert(1, published_at=NOW - timedelta(hours=2))
        h.portal.insert(2, published_at="hôm qua", updated_at=None)
        h.portal.insert(3, published_at="24/11/2026 08:15", updated_at=None)
        report = h.poll()
        assert [(e.source_id, e.field) for e in report.errors] == [("2", "published_at")]
        assert "hôm qua" in str(report.errors[0])
        assert len(report.new) == 2
        assert h.stored(3).published_at.isoformat() == "2026-11-24T01:15:00+00:00"
    finally:
        h.close()


def test_a_long_body_is_stored_whole(h: Harness) -> None:
    body = "<p>" + "Nội dung rất dài của văn bản. " * 10_000 + "</p>"  # ~300 KB
    assert len(body.encode("utf-8")) > 300_000
    h.portal.insert(1, body_html=body, summary=body, title="Tiêu đề " * 10_000)
    report = h.poll()
    assert len(report.new) == 1 and report.errors == []
    assert h.stored(1).body_html == body


def test_padded_and_decomposed_text_ids_keep_matching(db_pair: tuple[str, str]) -> None:
    """CHAR(n) pads ids, a Mac or a Vietnamese IME writes NFD or mixed forms: same row."""
    h = Harness(*db_pair)
    try:
        h.portal = _fresh_portal(h, id_type=sa.CHAR(24))
        ids = ["TB-01", unicodedata.normalize("NFD", "thông-báo-2"), "thông-ba\u0301o-3"]
        for sid in ids:
            h.portal.insert(sid)
        assert len(h.poll().new) == 3
        quiet = h.poll()
        assert (quiet.withdrawn, quiet.changed, quiet.errors) == ([], [], [])
        h.portal.update(ids[1], updated_at=h.now, title="Đã sửa")
        edited = h.poll()
        assert edited.errors == [] and edited.withdrawn == [] and len(edited.changed) == 1
        assert h.stored("thông-báo-2").title == "Đã sửa"
        assert {h.stored(unicodedata.normalize("NFC", s)).state for s in ids} == {"public"}
    finally:
        h.close()


def test_a_source_id_too_long_to_store_is_a_row_error(db_pair: tuple[str, str]) -> None:
    h = Harness(*db_pair)
    try:
        h.portal = _fresh_portal(h, id_type=sa.String(400))
        h.portal.insert("x" * 300)
        h.portal.insert("ngan")
        report = h.poll()
        assert [(e.source_id, e.field) for e in report.errors] == [("x" * 300, "id")]
        assert len(report.new) == 1 and h.stored("ngan").state == "public"
    finally:
        h.close()


def _fresh_portal(h: Harness, **types: Any) -> Portal:
    """Replace the default portal table with one of other column types."""
    h.portal.engine.dispose()
    with h.portal.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE bulletins"))
    return Portal(h.settings.source.url.get_secret_value(), **types)


def test_a_backdated_bulletin_on_a_later_poll_is_mailed(h: Harness) -> None:
    """The age rule keeps an archive out of mail on the first import, never afterwards."""
    h.portal.insert(1)
    h.poll()
    h.portal.insert(2, published_at=NOW - timedelta(days=60), updated_at=h.now)
    report = h.poll()
    assert len(report.new) == 1 and report.archived == []
    assert h.stored(2).notify
