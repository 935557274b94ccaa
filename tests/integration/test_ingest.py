"""Ingest on real databases: new, changed, withdrawn, deleted, late and hostile bulletins."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicator.config.databases import create_engine
from syndicator.config.settings import Settings
from syndicator.errors import SourceSchemaError
from syndicator.ingest.fresh import NEW_ROWS
from syndicator.ingest.poll import Poller
from syndicator.source.portal import PortalSource
from syndicator.state.db import upgrade
from syndicator.state.schema import bulletins, state_values
from tests.portal import NOW, Portal, local


class Harness:
    """A portal, our state database and a poller with a hand-driven clock."""

    def __init__(self, state_url: str, portal_url: str, indexed: bool = False,
                 **overrides: Any) -> None:
        source = {"url": portal_url} | overrides.pop("source", {})
        self.settings = Settings(source=source, **overrides)
        self.portal = Portal(portal_url, table=self.settings.source.table,
                             columns=_columns(self.settings),
                             published=self.settings.source.published_status,
                             indexed=indexed)
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


@pytest.fixture(params=["unindexed", "indexed"])
def h(request: pytest.FixtureRequest, db_pair: tuple[str, str]) -> Iterator[Harness]:
    """Without indexes on the portal's timestamps new rows come by id; with them, by window."""
    harness = Harness(*db_pair, indexed=request.param == "indexed")
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


def test_bulletins_scheduled_for_later_are_not_read_by_every_poll(h: Harness) -> None:
    h.portal.insert(1)
    h.poll()
    for i in range(2, 42):  # scheduled days ahead, their updated_at the same (as CMSs do)
        h.portal.insert(i, published_at=NOW + timedelta(days=3, minutes=i))
    h.poll(timedelta(minutes=1))  # notices them once (new ids / the window)
    quiet = [h.poll(timedelta(minutes=1)).rows_read for _ in range(3)]
    assert max(quiet) < 40, quiet  # not the 40 scheduled rows again on every poll
    assert len(h.poll(timedelta(days=3, hours=1)).new) == 40  # all found when their time comes


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


def test_text_timestamps_mixing_separators_stay_out_of_the_window(
        db_pair: tuple[str, str]) -> None:
    """' ' < 'T': '2026-11-25 10:00' would fall before a window bound '2026-11-25T09:59'."""
    h = Harness(*db_pair, indexed=True)
    try:
        h.portal = _fresh_portal(h, ts_type=sa.String(40), indexed=True)
        h.portal.insert(1, published_at="2026-11-25T08:30:00")
        h.portal.insert(2, published_at="2026-11-25 08:40:00")
        assert h.source.describe().window == ()
        assert len(h.poll().new) == 2
        h.portal.update(2, updated_at=h.now, title="Đã sửa")  # written as '2026-11-25 10:01:00'
        assert len(h.poll().changed) == 1 and h.stored(2).title == "Đã sửa"
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


@pytest.mark.parametrize("indexed", [False, True])
def test_day_first_text_timestamps_on_a_later_poll(db_pair: tuple[str, str],
                                                   indexed: bool) -> None:
    """'03/12/2026 09:00' < '2026-12-03 ...' as strings: no time window can use such a column."""
    h = Harness(*db_pair, indexed=indexed, ingest={"sweep_batch": 10})
    try:
        h.portal = _fresh_portal(h, ts_type=sa.String(40), ts_format="%d/%m/%Y %H:%M",
                                 indexed=indexed)
        h.now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
        for i in range(1, 31):  # more than one discovery sweep reads
            h.portal.insert(i, published_at=h.now - timedelta(hours=1, minutes=i))
        assert len(h.poll().new) == 30
        h.portal.insert(31, published_at=h.now - timedelta(minutes=5))
        h.portal.update(20, updated_at=h.now, title="Tiêu đề đã sửa")
        report = h.poll()
        assert (len(report.new), len(report.changed), report.errors) == (1, 1, [])
        assert h.stored(20).title == "Tiêu đề đã sửa" and h.stored(31).state == "public"
    finally:
        h.close()


@pytest.mark.parametrize("indexed", [False, True])
def test_a_row_committed_late_under_a_lower_id_is_found(db_pair: tuple[str, str],
                                                        indexed: bool) -> None:
    h = Harness(*db_pair, indexed=indexed, ingest={"sweep_batch": 10})
    try:
        for i in range(1, 31):
            h.portal.insert(i, published_at=NOW - timedelta(days=5))
        h.poll()
        h.poll(timedelta(minutes=11))  # the discovery sweep reads ids 1-10
        h.portal.insert(32)
        assert len(h.poll().new) == 1  # the sweep: 11-20
        # 31 was allocated before 32 but committed after the poll above read 32.
        h.portal.insert(31, published_at=NOW - timedelta(days=3), updated_at=None)
        report = h.poll()  # the sweep: 21-30
        assert len(report.new) == 1 and h.stored(31).notify
    finally:
        h.close()


@pytest.mark.parametrize("indexed", [False, True])
def test_a_draft_published_without_touching_its_dates_is_found(db_pair: tuple[str, str],
                                                               indexed: bool) -> None:
    h = Harness(*db_pair, indexed=indexed, ingest={"sweep_batch": 10})
    try:
        for i in range(1, 31):
            h.portal.insert(i, published_at=NOW - timedelta(days=5))
        h.poll()
        h.portal.insert(31, status="draft", published_at=NOW - timedelta(days=5))
        assert h.poll().new == []
        h.portal.update(31, updated_at=NOW - timedelta(days=5), status="published")
        assert len(h.poll(timedelta(days=2)).new) == 1
    finally:
        h.close()


def test_an_edit_of_an_old_bulletin_comes_by_the_window_where_indexed(
        db_pair: tuple[str, str]) -> None:
    h = Harness(*db_pair, indexed=True, ingest={"hot_days": 1, "sweep_batch": 10},
                feeds={"max_entries": 1})
    try:
        for i in range(1, 26):
            h.portal.insert(i, published_at=NOW - timedelta(days=10, minutes=i))
        h.poll()
        h.poll(timedelta(days=2))  # nothing is "hot" any more; the sweeps read 1-10
        h.portal.update(20, updated_at=h.now, title="Sửa bản tin cũ")
        assert len(h.poll().changed) == 1 and h.stored(20).title == "Sửa bản tin cũ"
    finally:
        h.close()


def test_no_change_poll_work_does_not_grow_with_the_table(tmp_path: Path) -> None:
    """Unindexed timestamps (we may never require an index): a window would scan every row."""
    small, large = (_no_change_poll_steps(tmp_path / str(n), n) for n in (1_000, 5_000))
    assert large <= small * 1.1, (small, large)  # a scan: about 5 steps more per row


def _no_change_poll_steps(tmp_path: Path, rows: int) -> int:
    tmp_path.mkdir()
    h = Harness(f"sqlite:///{tmp_path / 'state.db'}", f"sqlite:///{tmp_path / 'portal.db'}")
    try:
        _fill(h.portal, rows)
        steps = _count_vm_steps(h)
        h.poll()
        h.poll()
        steps.clear()
        report = h.poll()
        assert report.rows_read == 0 and not report.changed_anything
        return sum(steps)
    finally:
        h.close()


def _fill(portal: Portal, rows: int) -> None:
    """Archive rows, old enough to be out of every time window."""
    when = local(NOW - timedelta(days=400))
    values = [{"id": i, "title": f"Bản tin {i}", "url": f"/tin/{i}", "status": "published",
               "published_at": when, "updated_at": when} for i in range(1, rows + 1)]
    with portal.engine.begin() as conn:
        conn.execute(portal.table.insert(), values)


def _count_vm_steps(h: Harness) -> list[int]:
    """SQLite virtual-machine steps the source engine runs, in hundreds (work, not time)."""
    steps: list[int] = []

    def hook(dbapi: Any, _record: Any) -> None:
        dbapi.set_progress_handler(lambda: steps.append(100) and 0, 100)

    engine = create_engine(h.settings.source.url.get_secret_value(), "source.url",
                           read_only=True)
    sa.event.listen(engine, "connect", hook)
    h.source.engine.dispose()
    h.source = PortalSource(h.settings.source, h.settings.tz, engine=engine)
    h.poller = Poller(h.settings, h.source, h.state, clock=lambda: h.now)
    return steps


def test_state_from_before_paging_by_id_pages_from_our_newest(db_pair: tuple[str, str]) -> None:
    """A state database polled by an older version has no new-id mark: none is skipped."""
    h = Harness(*db_pair, ingest={"sweep_batch": 10})
    try:
        for i in range(1, 31):
            h.portal.insert(i, published_at=NOW - timedelta(days=5))
        h.poll()
        with h.state.begin() as conn:
            conn.execute(state_values.delete().where(state_values.c.name == NEW_ROWS))
        h.portal.insert(31, published_at=NOW - timedelta(days=3), updated_at=None)
        report = h.poll()
        assert len(report.new) == 1 and report.rows_read == 1
    finally:
        h.close()
