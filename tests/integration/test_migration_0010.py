"""Migration 0010: stored bulletins get their one category in the categories list, keep
their content hash (the next poll sees nothing changed), and the way back keeps them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from syndicator.config.databases import create_engine
from syndicator.ingest.clean import clean_row
from syndicator.source.portal import SourceRow
from syndicator.state import bulletins as store
from syndicator.state.db import upgrade
from tests.integration.test_migrations import _migrate

SITE = "https://sonoivu.backan.example/"


def test_0010_migrates_stored_categories(db_url: str) -> None:
    engine = create_engine(db_url, "database.url")
    t = datetime(2026, 12, 1, tzinfo=UTC)
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    cleaned = [clean_row(SourceRow(str(i), {
        "id": i, "title": f"Tin {i}", "url": f"/tin/{i}", "status": "published",
        "published_at": "2026-11-30 08:00", "category": cat}), tz, SITE)
        for i, cat in ((1, "Thi đua - Khen thưởng"), (2, None))]
    try:
        _migrate(engine, "0008")
        old = sa.table("bulletins", *map(sa.column, (
            "source_id", "title", "category", "category_slug", "url", "published_at",
            "first_seen_at", "changed_at", "content_hash", "state", "revision", "notify")))
        with engine.begin() as conn:
            for b in cleaned:
                conn.execute(old.insert().values(
                    source_id=b.source_id, title=b.title, category=b.category,
                    category_slug=b.category_slug, url=b.url, published_at=b.published_at,
                    first_seen_at=t, changed_at=t, content_hash=b.content_hash,
                    state="public", revision=1, notify=True))
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT source_id, categories FROM bulletins "
                                        "ORDER BY source_id")).all()
            assert [(r[0], json.loads(r[1]) if r[1] else None) for r in rows] == [
                ("1", [["Thi đua - Khen thưởng", "thi-dua-khen-thuong"]]), ("2", None)]
            known = store.known(conn, ["1", "2"])
            assert {k: v.content_hash for k, v in known.items()} == {
                b.source_id: b.content_hash for b in cleaned}
            [first] = store.get_many(conn, [known["1"].id])
            assert first.all_categories == [("Thi đua - Khen thưởng", "thi-dua-khen-thuong")]
            assert store.category_slugs(conn) == {"Thi đua - Khen thưởng":
                                                  "thi-dua-khen-thuong"}
        _migrate(engine, "0008", down=True)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM bulletins")) == 2
    finally:
        engine.dispose()
