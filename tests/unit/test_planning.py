"""Which bulletins each subscriber gets: categories, subscription time, empty digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syndicator.models.bulletin import Bulletin
from syndicator.planning.audience import Audience, content_key, plan

T0 = datetime(2026, 11, 24, tzinfo=UTC)


def bulletin(i: int, slug: str, hours: int) -> Bulletin:
    at = T0 + timedelta(hours=hours)
    return Bulletin(id=i, source_id=str(i), title="t", summary=None, body_html=None, author=None,
                    category=slug, category_slug=slug, url="u", published_at=at,
                    first_seen_at=at, changed_at=at, revision=1, state="public",
                    withdrawn_at=None, notify=True)


BULLETINS = [bulletin(3, "thi-dua", 5), bulletin(2, "thong-bao", 3), bulletin(1, "thong-bao", 1)]


def test_groups_subscribers_by_identical_content() -> None:
    contents = plan(BULLETINS, [Audience(10, (), T0), Audience(11, (), T0),
                                Audience(12, ("Thông báo",), T0)])
    by_subs = {c.subscriber_ids: c.bulletin_ids for c in contents}
    assert by_subs == {(10, 11): (3, 2, 1), (12,): (2, 1)}


def test_nothing_from_before_they_subscribed_and_no_empty_digest() -> None:
    contents = plan(BULLETINS, [Audience(10, (), T0 + timedelta(hours=2)),
                                Audience(11, (), T0 + timedelta(hours=9)),
                                Audience(12, ("Chuyển đổi số",), T0)])
    assert [(c.subscriber_ids, c.bulletin_ids) for c in contents] == [((10,), (3, 2))]


def test_content_key_ignores_order() -> None:
    assert content_key([1, 2, 3]) == content_key((3, 1, 2)) != content_key([1, 2])
