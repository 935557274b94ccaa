"""A WordPress portal read through source.query: its real core tables on MariaDB and
PostgreSQL, its own statuses and post types, several categories, document details and files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from syndicator.config.databases import create_engine
from syndicator.config.settings import Settings
from syndicator.feeds.directory import build_all
from syndicator.ingest.poll import Poller
from syndicator.planning.audience import Audience, plan
from syndicator.source.portal import PortalSource
from syndicator.source.query import as_text_clause
from syndicator.state import bulletins as store
from syndicator.state.db import upgrade
from syndicator.state.schema import bulletins
from tests.conftest import _scratch_database
from tests.feeds_support import assert_valid
from tests.portal import NOW, local
from tests.wordpress import WordPress, attachments_query, posts_query

SITE = "https://sonoivu.backan.example/"
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


class Site:
    """A WordPress database, our state database and a poller with a hand-driven clock."""

    def __init__(self, state_url: str, portal_url: str, out: Path, indexed: bool) -> None:
        self.wp = WordPress(portal_url)
        dialect = self.wp.dialect
        self.settings = Settings(
            site={"url": SITE}, public_base_url="https://bantin.example",
            feeds={"output_dir": str(out)},
            source={"url": portal_url, "query": posts_query(dialect),
                    "attachments_query": attachments_query(dialect),
                    "category_separator": ";", "published_status": "publish",
                    "indexed_fields": ["published_at"] if indexed else []})
        self.state = create_engine(state_url, "database.url")
        upgrade(self.state)
        self.now = NOW
        self.source = PortalSource(self.settings.source, self.settings.tz)
        self.poller = Poller(self.settings, self.source, self.state, clock=lambda: self.now)

    def poll(self, advance: timedelta = timedelta(minutes=1)) -> Any:
        self.now += advance
        return self.poller.poll()

    def public(self) -> dict[str, Any]:
        with self.state.connect() as conn:
            rows = conn.execute(sa.select(bulletins).where(bulletins.c.state == "public"))
            return {r.source_id: r for r in rows}

    def close(self) -> None:
        for engine in (self.state, self.source.engine, self.wp.engine):
            engine.dispose()


@pytest.fixture(params=[("postgresql", False), ("postgresql", True),
                        ("mariadb", False), ("mariadb", True)],
                ids=["postgresql", "postgresql-window", "mariadb", "mariadb-window"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    kind, indexed = request.param
    state_gen, portal_gen = _scratch_database(kind), _scratch_database(kind)
    try:
        s = Site(next(state_gen), next(portal_gen), tmp_path / "feeds", indexed)
        yield s
        s.close()
    finally:
        for gen in (state_gen, portal_gen):
            gen.close()


def _write(site: Site) -> dict[str, int]:
    wp, at = site.wp, local(NOW - timedelta(hours=2))
    assert not isinstance(at, str)
    ids = {
        "multi": wp.post("Hướng dẫn thi đua năm 2024", at,
                         categories=("Thi đua - Khen thưởng", "Cải cách hành chính"),
                         tags=("Nổi bật",),
                         meta_values={"so_ky_hieu": "123/HD-SNV", "ngay_ban_hanh": "20231120",
                                      "co_quan_ban_hanh": "Sở Nội vụ",
                                      "loai_van_ban": "Hướng dẫn"}),
        "missed": wp.post("Lịch tiếp công dân", at, status="future",
                          categories=("Tin tức",)),
        "scheduled": wp.post("Thông báo tuyển dụng", at + timedelta(hours=5),
                             status="future", categories=("Tin tức",)),
        "draft": wp.post("Bản nháp", at, status="draft", categories=("Tin tức",)),
        "private": wp.post("Tin nội bộ", at, status="private", categories=("Tin tức",)),
        "page": wp.post("Giới thiệu Sở", at, type="page"),
        "single": wp.post("Kết quả cải cách hành chính quý III", at,
                          categories=("Cải cách hành chính",)),
    }
    ids["revision"] = wp.post("Hướng dẫn thi đua (bản sửa)", at, status="inherit",
                              type="revision", parent=ids["multi"])
    wp.attach(ids["multi"], "Hướng dẫn 123/HD-SNV", "2023/11/huong-dan-123.pdf",
              "application/pdf", at, size=250880)
    wp.attach(ids["multi"], "Phụ lục mẫu biểu", "2023/11/phu-luc.docx",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document", at)
    return ids


def test_wordpress_posts_in_drafts_pages_revisions_out(site: Site) -> None:
    ids = _write(site)
    report = site.poll()
    assert not report.errors, report.errors
    public = site.public()
    assert set(public) == {str(ids["multi"]), str(ids["missed"]), str(ids["single"])}

    multi = public[str(ids["multi"])]
    assert multi.url == f"{SITE}?p={ids['multi']}"  # relative, resolved against site.url
    assert multi.author == "Phòng Văn thư"
    assert json.loads(multi.categories) == [["Cải cách hành chính", "cai-cach-hanh-chinh"],
                                            ["Thi đua - Khen thưởng", "thi-dua-khen-thuong"]]
    assert json.loads(multi.document) == {"number": "123/HD-SNV", "issued_at": "2023-11-20",
                                          "issuer": "Sở Nội vụ", "type": "Hướng dẫn"}
    files = {f["title"]: f for f in json.loads(multi.attachments)}
    assert files["Hướng dẫn 123/HD-SNV"] == {
        "url": f"{SITE}wp-content/uploads/2023/11/huong-dan-123.pdf",
        "title": "Hướng dẫn 123/HD-SNV", "size": 250880, "type": "application/pdf"}
    assert files["Phụ lục mẫu biểu"]["size"] is None  # no filesize in its metadata

    # The scheduled post comes in when its time has come, whatever WP-Cron did.
    site.poll(timedelta(hours=6))
    assert str(ids["scheduled"]) in site.public()
    # Trashed: withdrawn at the next poll.
    site.wp.set(ids["single"], post_status="trash",
                post_modified=local(site.now + timedelta(minutes=1)))
    site.poll()
    assert str(ids["single"]) not in site.public()
    assert site.poll().changed_anything is False  # nothing more to do


def test_multi_category_post_in_every_feed_and_once_per_digest(site: Site) -> None:
    ids = _write(site)
    site.poll()
    out = Path(site.settings.feeds.output_dir)
    build_all(site.settings, site.state, site.now)
    multi_title = "Hướng dẫn thi đua năm 2024"
    for stem in ("all", "thi-dua-khen-thuong", "cai-cach-hanh-chinh"):
        for ext in ("atom", "rss", "json"):
            data = (out / f"{stem}.{ext}").read_bytes()
            parsed = assert_valid(f"{stem}.{ext}", data)  # RFC 4287 schema, feedparser
            titles = ([i["title"] for i in parsed["items"]] if ext == "json"
                      else [e.title for e in parsed.entries])
            assert titles.count(multi_title) == 1, (stem, ext, titles)
    assert multi_title not in (out / "tin-tuc.atom").read_text("utf-8")
    assert not (out / "noi-bat.atom").exists()  # a tag is not a category

    atom = etree.fromstring((out / "all.atom").read_bytes())
    entry = next(e for e in atom.iter(f"{ATOM}entry")
                 if e.findtext(f"{ATOM}title") == multi_title)
    assert sorted(c.get("label") for c in entry.iter(f"{ATOM}category")) == [
        "Cải cách hành chính", "Thi đua - Khen thưởng"]
    enclosures = [link.attrib for link in entry.iter(f"{ATOM}link")
                  if link.get("rel") == "enclosure"]
    assert [(e["type"], e.get("length")) for e in enclosures] == [
        ("application/pdf", "250880"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", None)]
    assert entry.findtext(f"{DC}identifier") == "123/HD-SNV"
    assert entry.findtext(f"{DC}date") == "2023-11-20"
    assert entry.findtext(f"{DC}publisher") == "Sở Nội vụ"

    rss = etree.fromstring((out / "all.rss").read_bytes())
    item = next(i for i in rss.iter("item") if i.findtext("title") == multi_title)
    assert sorted(c.text or "" for c in item.iter("category")) == [
        "Cải cách hành chính", "Thi đua - Khen thưởng"]
    [enclosure] = item.iter("enclosure")
    assert enclosure.get("length") == "250880" and enclosure.get("type") == "application/pdf"
    assert "phu-luc.docx" in (item.findtext("description") or "") + (
        item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or "")

    feed = json.loads((out / "all.json").read_bytes())
    json_item = next(i for i in feed["items"] if i["title"] == multi_title)
    assert sorted(json_item["tags"]) == ["Cải cách hành chính", "Thi đua - Khen thưởng"]
    assert [a["mime_type"] for a in json_item["attachments"]][0] == "application/pdf"
    assert json_item["attachments"][0]["size_in_bytes"] == 250880
    assert json_item["_vn_document"]["number"] == "123/HD-SNV"

    # A subscriber of either category, or of both, gets the post, once.
    with site.state.connect() as conn:
        stored = store.get_many(conn, sorted(int(r.id) for r in site.public().values()))
    since = NOW - timedelta(days=1)
    audience = [Audience(1, ("Thi đua - Khen thưởng",), since),
                Audience(2, ("Cải cách hành chính", "Thi đua - Khen thưởng"), since),
                Audience(3, ("Tin tức",), since)]
    by_subscriber = {s: c.bulletin_ids for c in plan(stored, audience) for s in c.subscriber_ids}
    multi_id = next(b.id for b in stored if b.source_id == str(ids["multi"]))
    assert by_subscriber[1].count(multi_id) == 1 and by_subscriber[2].count(multi_id) == 1
    assert multi_id not in by_subscriber[3]


def test_the_poll_reads_are_merged_into_the_recipe_query(site: Site) -> None:
    """The database folds `(query) AS src` into the poll's reads: no derived table is
    materialised, so `src.id > ? ORDER BY src.id LIMIT n` pages wp_posts's primary key."""
    _write(site)
    shape = site.source.describe()
    ident = shape.cols["id"]
    keyset = (PortalSource._select(shape, keys_only=True).where(ident > 1)
              .order_by(ident).limit(200))
    by_key = PortalSource._select(shape).where(ident.in_([1, 2]))
    with site.source.engine.connect() as conn:
        for stmt in (keyset, by_key):
            sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = [tuple(r) for r in conn.execute(as_text_clause(f"EXPLAIN {sql}"))]
            if site.wp.dialect == "postgresql":
                assert not any("Subquery Scan" in str(r[0]) for r in plan), plan
            else:
                assert "DERIVED" not in {r[1] for r in plan}, plan
