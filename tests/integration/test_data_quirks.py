"""Data quirks end to end: categories that fold to one slug get two feeds, URLs that are not
URIs are encoded, a huge body does not make huge feeds (real database, real feed files)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
import sqlalchemy as sa

from syndicator.feeds.directory import build_all
from syndicator.models.text import distinct_slug
from syndicator.state.schema import bulletins
from tests.integration.test_ingest import Harness


@pytest.fixture
def h(db_pair: tuple[str, str], tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(*db_pair, feeds={"output_dir": str(tmp_path / "feeds"),
                                       "max_content_bytes": 50_000})
    yield harness
    harness.close()


def _slugs(h: Harness) -> dict[str, str]:
    with h.state.connect() as conn:
        return {r.source_id: r.category_slug for r in conn.execute(
            sa.select(bulletins.c.source_id, bulletins.c.category_slug))}


def test_two_categories_that_fold_alike_get_two_stable_feeds(h: Harness, tmp_path: Path) -> None:
    h.portal.insert(1, category="Chuyển đổi số")
    h.poll()
    h.portal.insert(2, category="Chuyen doi so")  # later, and the same once folded
    h.portal.insert(3, category="CHUYỂN ĐỔI SỐ")  # the first one, in capitals: the same
    h.poll()
    other = distinct_slug("Chuyen doi so")
    assert _slugs(h) == {"1": "chuyen-doi-so", "2": other, "3": "chuyen-doi-so"}
    build_all(h.settings, h.state)
    feeds = tmp_path / "feeds"
    plain = feedparser.parse((feeds / "chuyen-doi-so.atom").read_bytes())
    second = feedparser.parse((feeds / f"{other}.atom").read_bytes())
    assert sorted(e.title for e in plain.entries) == ["Bản tin số 1", "Bản tin số 3"]
    assert [e.title for e in second.entries] == ["Bản tin số 2"]
    h.portal.update(2, updated_at=h.now + timedelta(seconds=5), title="Sửa")  # re-ingested
    h.poll()
    assert _slugs(h)["2"] == other  # the same slug at every poll and rebuild


def test_urls_are_encoded_and_long_bodies_cut_in_feeds(h: Harness, tmp_path: Path) -> None:
    h.portal.insert(1, url='/tin tức/"số 1" <mới>.html',
                    body_html="<p>" + "Nội dung rất dài. " * 300_000 + "</p>")  # ~5.7 MB
    h.poll()
    stored = h.stored(1)
    assert stored.url == ("https://sonoivu.backan.example/tin%20t%E1%BB%A9c/"
                          "%22s%E1%BB%91%201%22%20%3Cm%E1%BB%9Bi%3E.html")
    assert len(stored.body_html) > 5_000_000  # our copy is whole
    build_all(h.settings, h.state)
    atom = (tmp_path / "feeds" / "all.atom").read_bytes()
    assert len(atom) < 200_000
    parsed = feedparser.parse(atom)
    assert parsed.bozo == 0 and parsed.entries[0].link == stored.url
    assert "toàn văn" in parsed.entries[0].content[0].value
