"""Cleaning one portal row: sanitising, absolute links, timestamps, named errors."""

import unicodedata
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql

from syndicator.errors import RowError
from syndicator.ingest.clean import clean_row
from syndicator.ingest.fresh import FreshState
from syndicator.ingest.sanitize import sanitize_html
from syndicator.models.text import clean_text, html_to_text
from syndicator.source.portal import SourceRow, source_row
from syndicator.source.shape import timestamp_kind, window_fields
from syndicator.source.values import as_text, parse_timestamp, sorts_as_time

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def row(**values: object) -> SourceRow:
    base = {"id": 7, "title": "Tiêu đề", "url": "/tin/7", "status": "published",
            "published_at": "2023-11-27 08:00:00"}
    return SourceRow("7", base | values)


@pytest.mark.parametrize("raw,expected", [
    ("2023-11-27 08:00:00", "2023-11-27T01:00:00+00:00"),
    ("2023-11-27T08:00:00+07:00", "2023-11-27T01:00:00+00:00"),
    ("2023-11-27T01:00:00Z", "2023-11-27T01:00:00+00:00"),
    ("27/11/2023 08:00", "2023-11-27T01:00:00+00:00"),
    ("27/11/2023", "2023-11-26T17:00:00+00:00"),
    (datetime(2023, 11, 27, 8, 0), "2023-11-27T01:00:00+00:00"),
    (datetime(2023, 11, 27, 1, 0, tzinfo=UTC), "2023-11-27T01:00:00+00:00"),
    (date(2023, 11, 27), "2023-11-26T17:00:00+00:00"),
])
def test_timestamps_naive_in_portal_zone(raw: object, expected: str) -> None:
    assert parse_timestamp(raw, TZ).isoformat() == expected


@pytest.mark.parametrize("raw", ["hôm qua", "2023-13-45", "", 12.5])
def test_bad_timestamps_raise(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(raw, TZ)


def test_legacy_bytes_are_decoded() -> None:
    assert as_text("Sở Nội vụ".encode()) == "Sở Nội vụ"
    legacy = "S\u01a1\u0309 N\u00f4\u0323i vu\u0323".encode("cp1258")  # Windows-1258 bytes
    assert clean_text(as_text(legacy) or "") == "Sở Nội vụ"


def test_relative_url_resolves_against_site() -> None:
    b = clean_row(row(), TZ, "https://portal.example/")
    assert b.url == "https://portal.example/tin/7"
    assert b.published_at.tzinfo is not None


@pytest.mark.parametrize("values,field", [
    ({"title": None}, "title"),
    ({"title": "\r\n\x0b"}, "title"),
    ({"url": ""}, "url"),
    ({"url": "ftp://x/y"}, "url"),
    ({"published_at": None}, "published_at"),
    ({"published_at": "không rõ"}, "published_at"),
    ({"updated_at": "xx"}, "updated_at"),
    ({"category": "x" * 192}, "category"),
])
def test_row_errors_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(RowError) as info:
        clean_row(row(**values), TZ, "https://portal.example/")
    assert info.value.field == field and info.value.source_id == "7"
    assert "'7'" in str(info.value)


def test_content_hash_ignores_status_and_source_timestamps() -> None:
    a = clean_row(row(updated_at="2023-11-27 09:00"), TZ, "https://p.example/")
    b = clean_row(row(updated_at="2023-11-28 09:00", status="x"), TZ, "https://p.example/")
    c = clean_row(row(title="Khác"), TZ, "https://p.example/")
    assert a.content_hash == b.content_hash != c.content_hash


def test_sanitizer_keeps_structure_and_drops_danger() -> None:
    html = ('<h2 style="x">Mục</h2><table><tr><td colspan="2">ô</td></tr></table>'
            '<iframe src="https://evil"></iframe><form><input></form>'
            '<a href="mailto:a@b.example">thư</a><svg onload="x()"></svg>')
    out = sanitize_html(html, "https://p.example/")
    assert "<h2>Mục</h2>" in out and 'colspan="2"' in out and 'href="mailto:a@b.example"' in out
    for bad in ("iframe", "form", "input", "svg", "style", "onload"):
        assert bad not in out


def test_html_to_text() -> None:
    assert html_to_text("<p>Một &amp; hai</p><ul><li>ba</li></ul>") == "Một & hai\nba"


def test_a_portal_id_is_normalised_once_and_its_spelling_kept() -> None:
    nfd = unicodedata.normalize("NFD", "thông-báo-2")
    padded = source_row({"id": nfd + "   "})
    assert padded.source_id == "thông-báo-2" and padded.key == nfd + "   "
    plain = source_row({"id": 7})
    assert (plain.source_id, plain.portal_key, plain.key) == ("7", None, "7")


@pytest.mark.parametrize("sid,problem", [("x" * 192, "longer than 191"), ("", "is empty")])
def test_an_id_we_cannot_store_is_a_row_error(sid: str, problem: str) -> None:
    with pytest.raises(RowError, match=problem) as info:
        clean_row(SourceRow(sid, row().values), TZ, "https://portal.example/")
    assert (info.value.source_id, info.value.field) == (sid, "id")


@pytest.mark.parametrize("col_type,dialect,kind", [
    (mssql.DATETIMEOFFSET(), "mssql", "aware"),  # reflected with timezone=False
    (mssql.DATETIME2(), "mssql", "naive"),
    (postgresql.TIMESTAMP(timezone=True), "postgresql", "aware"),
    (postgresql.TIMESTAMP(), "postgresql", "naive"),
    (mysql.DATETIME(), "mysql", "naive"),
    (sa.String(40), "postgresql", "text"),
    (sa.DateTime(), "sqlite", "text"),  # SQLite keeps timestamps as text
])
def test_timestamp_columns_are_classified(col_type: object, dialect: str, kind: str) -> None:
    assert timestamp_kind(col_type, dialect) == kind


@pytest.mark.parametrize("text,sortable", [
    ("2026-12-03 09:00:00", True), ("2026-12-03T09:00", True), ("2026-12-03", True),
    ("2026-12-03 09:00:00.123456", True), ("03/12/2026 09:00", False),
    ("2026-12-03T09:00:00+07:00", False),  # an offset: string order is not time order
    (" 2026-12-03", False), ("hôm qua", False),
])
def test_which_text_sorts_as_time(text: str, sortable: bool) -> None:
    assert sorts_as_time(text) is sortable


@pytest.mark.parametrize("kinds,iso,indexed,pages,window", [
    ({"published_at": "naive", "updated_at": "naive"}, set(), {"published_at"}, True,
     ("published_at",)),  # an unindexed column would make the window a scan
    ({"published_at": "naive", "updated_at": "naive"}, set(), set(), False,
     ("published_at", "updated_at")),  # no id to page new rows by: the scan it is
    ({"published_at": "text", "updated_at": "text"}, {"updated_at"}, set(), False,
     ("updated_at",)),  # dd/mm/yyyy text never
])
def test_window_fields(kinds: dict[str, str], iso: set[str], indexed: set[str], pages: bool,
                       window: tuple[str, ...]) -> None:
    assert window_fields(kinds, iso, indexed, pages) == window


def test_new_ids_are_paged_from_the_highest_known_an_overlap_ago() -> None:
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    overlap = timedelta(minutes=10)
    state = FreshState(((t0, 30),))
    assert state.start(t0 + timedelta(minutes=1), overlap) == 30
    for minute, high in ((5, 40), (12, 55)):
        state = state.advance(t0 + timedelta(minutes=minute), overlap,
                              [SourceRow(str(high), {})], [7, 3], limit=1)
    assert state.start(t0 + timedelta(minutes=14), overlap) == 30  # what we knew at 0:04
    assert state.start(t0 + timedelta(minutes=16), overlap) == 40
    assert state.marks[-1][1] == 55 and state.waiting == (7,)
    assert FreshState.load(state.dump()) == state


def test_new_id_state_stays_small() -> None:
    """It is stored as TEXT (64 KB on MariaDB), whatever the overlap and hot_limit."""
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    state = FreshState(((t0, 1),))
    for minute in range(1, 200):  # a day of overlap, a poll a minute: every mark is recent
        state = state.advance(t0 + timedelta(minutes=minute), timedelta(days=1),
                              [SourceRow(str(minute), {})], range(5000), limit=100_000)
    assert len(state.marks) == 64 and len(state.waiting) == 1000
    assert state.start(t0 + timedelta(minutes=200), timedelta(days=1)) == 136  # oldest kept
    assert len(state.dump()) < 16_000
