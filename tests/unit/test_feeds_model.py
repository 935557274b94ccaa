"""Feed model, ids, paging, file names and rendering: pure, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicator.config.settings import Settings
from syndicator.feeds import names
from syndicator.feeds.build import render_all
from syndicator.feeds.model import entry_id
from syndicator.feeds.paging import FeedContext, Scope, documents
from tests.feeds_support import T0, assert_valid, bulletin

NOW = T0 + timedelta(days=30)


def settings(**feeds: Any) -> Settings:
    return Settings(public_base_url="https://bantin.sonoivu.example:8443/",
                    feeds={"output_dir": "unused", **feeds})


def ctx(page_size: int = 5, since: datetime = T0) -> FeedContext:
    return FeedContext(host="bantin.example", home_url="https://portal.example/",
                       author="Sở", language="vi", page_size=page_size, hub=None,
                       tombstones_since=since)


SCOPE = Scope("all", "https://x/feeds/all.atom", "Tất cả", "Tất cả bản tin")


def entry_ids(doc: Any) -> list[str]:
    return [e.id for e in doc.entries]


# --- ids -----------------------------------------------------------------------------------

def test_entry_id_is_a_tag_uri_from_host_a_fixed_date_and_source_id() -> None:
    b = bulletin(1, first_seen_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC), source_id="A 7/x")
    assert entry_id("bantin.example", b) == "tag:bantin.example,2026-01-01:bulletin/A%207%2Fx"


def test_entry_id_depends_neither_on_when_we_saw_it_nor_on_its_dates() -> None:
    b = bulletin(1)
    again = replace(b, id=99, first_seen_at=b.first_seen_at + timedelta(days=400),
                    published_at=b.published_at - timedelta(days=30),
                    changed_at=b.changed_at + timedelta(days=400))
    assert entry_id("h", again) == entry_id("h", b)


def test_entry_id_survives_edits_and_differs_between_bulletins() -> None:
    b = bulletin(1)
    edited = replace(b, title="Tiêu đề mới", body_html="<p>khác</p>", revision=2,
                     changed_at=b.changed_at + timedelta(days=3), url="https://x/y")
    assert entry_id("h", edited) == entry_id("h", b)
    assert entry_id("h", bulletin(2)) != entry_id("h", b)


def test_render_uses_the_host_of_public_base_url_without_port() -> None:
    files = render_all(settings(), [bulletin(1)], NOW)
    assert b"tag:bantin.sonoivu.example,2026-01-01:bulletin/1001" in files["all.atom"]


# --- file names ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["all.atom", "all.rss", "all.json", "index.opml",
                                  "thi-dua-khen-thuong.rss", "c-0a1b2c3d4e.json",
                                  "all.archive-12.atom", "chuyen-doi-so.archive-1.json"])
def test_our_file_names_are_recognised(name: str) -> None:
    assert names.is_feed_file(name)


@pytest.mark.parametrize("name", ["../all.atom", "all.atom/", "..", ".tmp-all.atom.x1",
                                  "all.xml", "ALL.atom", "all.archive-0.atom", "a..atom",
                                  "-a.atom", "index.atom.opml", "all.atom\x00", "%2e%2e"])
def test_other_names_are_refused(name: str) -> None:
    assert not names.is_feed_file(name)


def test_reserved_slugs_never_shadow_the_overall_feed() -> None:
    assert names.scope_stem(None) == "all"
    assert names.scope_stem("all") == "all-category"
    assert names.scope_stem("chuyen-doi-so") == "chuyen-doi-so"


def test_file_names_follow_the_contract() -> None:
    files = render_all(settings(), [bulletin(i) for i in range(6)], NOW)
    stems = {"all", "thi-dua-khen-thuong", "chuyen-doi-so", "to-chuc-bo-may"}
    assert set(files) == ({f"{s}.{x}" for s in stems for x in names.FORMATS}
                          | {"index.opml", "feed.xsl"})
    for name, data in files.items():
        assert_valid(name, data)


# --- order, dates, stability ---------------------------------------------------------------

def test_entries_newest_first_and_feed_updated_is_the_newest_entry() -> None:
    items = [bulletin(i) for i in (3, 1, 2)]
    items[0] = replace(items[0], changed_at=T0 + timedelta(days=9), revision=2)
    (doc,) = documents(SCOPE, sorted(items, key=lambda b: b.id), ctx())
    assert [e.title[-15:] for e in doc.entries] == [bulletin(i).title[-15:] for i in (3, 2, 1)]
    assert doc.updated == T0 + timedelta(days=9)
    assert doc.entries[0].published == bulletin(3).published_at


def test_published_and_updated_stay_apart_in_every_format() -> None:
    b = bulletin(1, changed_at=T0 + timedelta(days=2), revision=2)
    files = render_all(settings(), [b], NOW)
    atom = assert_valid("all.atom", files["all.atom"]).entries[0]
    # In the configured zone (Asia/Ho_Chi_Minh, +07:00): readers show local time.
    assert atom.published == "2026-03-02T09:30:00+07:00"
    assert atom.updated == "2026-03-04T08:30:00+07:00"
    rss = assert_valid("all.rss", files["all.rss"]).entries[0]
    assert rss.published == "Mon, 02 Mar 2026 09:30:00 +0700"
    item = assert_valid("all.json", files["all.json"])["items"][0]
    assert (item["date_published"], item["date_modified"]) == (
        "2026-03-02T09:30:00+07:00", "2026-03-04T08:30:00+07:00")


IMPORTED = T0 + timedelta(days=3)  # a first import of bulletins the portal had for days


def updated_of(b: Any) -> datetime:
    (doc,) = documents(SCOPE, [b], ctx())
    return doc.entries[0].updated


def test_a_never_changed_bulletin_shows_the_portals_time_not_our_import_time() -> None:
    b = bulletin(1, first_seen_at=IMPORTED, changed_at=IMPORTED)
    assert updated_of(b) == b.published_at
    edited_on_portal = b.published_at + timedelta(hours=2, microseconds=7)
    assert updated_of(replace(b, source_updated_at=edited_on_portal)) == (
        edited_on_portal.replace(microsecond=0))


def test_after_our_first_change_updated_is_our_change_time() -> None:
    changed = bulletin(1, first_seen_at=IMPORTED, changed_at=IMPORTED + timedelta(days=1),
                       revision=2, source_updated_at=T0 + timedelta(days=4))
    assert updated_of(changed) == IMPORTED + timedelta(days=1)


def test_a_portal_time_outside_publication_and_sighting_is_bounded() -> None:
    b = bulletin(1, first_seen_at=IMPORTED, changed_at=IMPORTED)
    # updated_at before published_at (a scheduled bulletin): never before publication
    assert updated_of(replace(b, source_updated_at=b.published_at - timedelta(days=1))) == (
        b.published_at)
    # a revision-1 row was not modified after we read it: a later stamp is a wrong clock
    assert updated_of(replace(b, source_updated_at=IMPORTED + timedelta(days=9))) == IMPORTED


def test_feed_updated_is_the_newest_entry_not_the_import() -> None:
    items = [bulletin(i, first_seen_at=IMPORTED, changed_at=IMPORTED) for i in range(1, 4)]
    (doc,) = documents(SCOPE, items, ctx())
    assert doc.updated == bulletin(3).published_at


def test_same_data_gives_the_same_bytes_whatever_the_clock() -> None:
    items = [bulletin(i) for i in range(12)]
    first = render_all(settings(max_entries=5), items, NOW)
    again = render_all(settings(max_entries=5), items, NOW + timedelta(hours=5))
    assert first == again


def test_an_empty_database_still_gives_valid_feeds() -> None:
    files = render_all(settings(), [], NOW)
    assert set(files) == {"all.atom", "all.rss", "all.json", "index.opml", "feed.xsl"}
    for name, data in files.items():
        assert_valid(name, data)


# --- paging (RFC 5005) ---------------------------------------------------------------------

def test_a_burst_of_three_pages_is_reachable_from_the_subscription_document() -> None:
    items = [bulletin(i) for i in range(1, 16)]
    docs = {d.stem: d for d in documents(SCOPE, items, ctx(page_size=5))}
    seen, stem = set(), "all"
    while stem:
        doc = docs.pop(stem)
        seen |= set(entry_ids(doc))
        stem = doc.prev_archive
    assert not docs, "every archive page is on the chain"
    assert seen == {entry_id("bantin.example", b) for b in items}


def test_archive_pages_never_shift_when_bulletins_arrive_or_are_withdrawn() -> None:
    items = [bulletin(i) for i in range(1, 13)]
    before = {d.stem: d for d in documents(SCOPE, items, ctx(page_size=5))}
    later = [*items[:2], replace(items[2], state="withdrawn", withdrawn_at=NOW), *items[3:],
             *(bulletin(i) for i in range(13, 20))]
    after = {d.stem: d for d in documents(SCOPE, later, ctx(page_size=5))}
    assert entry_ids(after["all.archive-2"]) == entry_ids(before["all.archive-2"])
    assert len(after["all.archive-1"].entries) == 4
    assert after["all.archive-3"].archive and after["all.archive-3"].prev_archive == (
        "all.archive-2")


def test_the_subscription_document_holds_max_entries_and_every_unarchived_arrival() -> None:
    # The newest arrival was published long ago (a backdated bulletin): it must still be in.
    items = [bulletin(i) for i in range(1, 12)]
    items.append(bulletin(12, published_at=T0 - timedelta(days=400)))
    current = documents(SCOPE, items, ctx(page_size=5))[-1]
    assert len(current.entries) == 5
    assert entry_id("bantin.example", items[-1]) in entry_ids(current)
    assert current.prev_archive == "all.archive-2"


# --- withdrawals (RFC 6721) ----------------------------------------------------------------

def test_a_withdrawn_bulletin_leaves_the_feed_and_is_marked_for_tombstone_days() -> None:
    gone = bulletin(2, state="withdrawn", withdrawn_at=T0 + timedelta(days=3))
    items = [bulletin(1), gone, bulletin(3)]
    files = render_all(settings(tombstone_days=7), items, T0 + timedelta(days=5))
    wid = entry_id("bantin.sonoivu.example", gone)
    for name in ("all.atom", "all.rss", "all.json", "to-chuc-bo-may.atom"):
        assert wid.encode() not in files[name].replace(b'ref="' + wid.encode(), b"")
    assert f'<at:deleted-entry ref="{wid}" when="2026-03-05T08:30:00+07:00"'.encode() in (
        files["all.atom"])
    assert b"deleted-entry" in files["to-chuc-bo-may.atom"]
    assert b"deleted-entry" not in files["chuyen-doi-so.atom"]
    assert_valid("to-chuc-bo-may.atom", files["to-chuc-bo-may.atom"])
    expired = render_all(settings(tombstone_days=7), items, T0 + timedelta(days=11))
    assert b"deleted-entry" not in expired["all.atom"]


# --- hostile text --------------------------------------------------------------------------

HOSTILE = ("Tiêu đề\x0b\x1b\x00 <script>alert(1)</script> ]]> &amp; \r\nBcc: x@y "
           "\ufeff\ufffe\ud800 " + "Nghị định ".join(["Thông tư"] * 200)
           + " Nghi\u0323 \u0111i\u0323nh (NFD)")


def test_hostile_text_in_every_field_still_gives_valid_documents() -> None:
    b = bulletin(1, title=HOSTILE, summary=HOSTILE, body_html=f"<p>{HOSTILE}</p>",
                 author=HOSTILE, category=HOSTILE, category_slug="hostile",
                 source_id="id with spaces/&<>\"'")
    files = render_all(settings(websub_hub="https://hub.example/"), [b], NOW)
    for name, data in files.items():
        assert_valid(name, data)
    title = assert_valid("all.atom", files["all.atom"]).entries[0].title
    assert "\n" not in title and "\x1b" not in title and "Nghị định" in title


def test_opml_lists_every_subscription_document_in_every_format() -> None:
    from lxml import etree

    files = render_all(settings(max_entries=2), [bulletin(i) for i in range(7)], NOW)
    root = etree.fromstring(files["index.opml"])
    urls = {o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")}
    base = "https://bantin.sonoivu.example:8443/feeds/"
    expected = {base + n for n in files if names.is_subscription_document(n)}
    assert urls == expected
    assert root.findtext("head/title") == "Các nguồn tin của Sở Nội vụ tỉnh Bắc Kạn"


def test_a_very_long_category_name_gives_a_short_distinct_file_name() -> None:
    # A slug of 300 characters made a file name the file system refuses: the build failed.
    long = "Thông báo về công tác tổ chức cán bộ " * 8
    items = [bulletin(1, category=long), bulletin(2, category=long + "khác"), bulletin(3)]
    files = render_all(settings(), items, NOW)
    assert all(len(n) <= names.MAX_NAME and names.is_feed_file(n) for n in files)
    documents_ = [n for n in files if names.is_subscription_document(n) and n.endswith(".atom")]
    assert len(documents_) == 4  # all, the two long ones apart, and bulletin 3's category


def test_icon_and_logo_from_the_config_reach_every_format() -> None:
    from lxml import etree

    config = Settings(public_base_url="https://bantin.example",
                      site={"icon": "https://cdn.example/icon-512.png",
                            "logo": "https://cdn.example/logo-144x72.png"})
    files = render_all(config, [bulletin(1)], NOW)
    atom = assert_valid("all.atom", files["all.atom"])  # RELAX NG: icon and logo in order
    assert atom.feed.icon == "https://cdn.example/icon-512.png"
    assert atom.feed.logo == "https://cdn.example/logo-144x72.png"
    image = etree.fromstring(files["all.rss"]).find("channel/image")
    assert image is not None and image.findtext("url") == "https://cdn.example/logo-144x72.png"
    assert image.findtext("link") == "https://sonoivu.backan.example/"
    assert_valid("all.rss", files["all.rss"])
    doc = assert_valid("all.json", files["all.json"])
    assert doc["icon"] == doc["favicon"] == "https://cdn.example/icon-512.png"
    plain = render_all(settings(), [bulletin(1)], NOW)
    assert b"<icon>" not in plain["all.atom"] and b"<image>" not in plain["all.rss"]
    assert '"icon"' not in plain["all.json"].decode()


def test_opml_marks_only_rss_as_rss_with_the_standard_version() -> None:
    from lxml import etree

    files = render_all(settings(), [bulletin(1)], NOW)
    root = etree.fromstring(files["index.opml"])
    kinds = {(o.get("xmlUrl").rsplit(".", 1)[1], o.get("type"), o.get("version"))
             for o in root.iter("outline") if o.get("xmlUrl")}
    assert kinds == {("rss", "rss", "RSS"), ("atom", "atom", None), ("json", "json", None)}
