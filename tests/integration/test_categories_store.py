"""Several categories in our state database (SQLite, PostgreSQL, MariaDB): every category
is known to subscriber forms and feeds, whichever position it holds in a bulletin."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from syndicator.ingest.categories import CategorySlugs
from syndicator.state import bulletins as store
from syndicator.state.subscribers import known_categories
from tests.feeds_support import T0, clean


def test_second_categories_are_known_everywhere(state: sa.Engine) -> None:
    multi = replace(clean(1, category="Tin tức"),
                    categories=("Tin tức", "Văn thư - Lưu trữ"),
                    category_slugs=("tin-tuc", "van-thu-luu-tru"))
    with state.begin() as conn:
        first = store.insert(conn, multi, T0, notify=True)
        store.insert(conn, clean(2, category="Tin tức"), T0, notify=True)
    with state.begin() as conn:
        assert known_categories(conn) == ["Tin tức", "Văn thư - Lưu trữ"]
        assert store.category_slugs(conn) == {"Tin tức": "tin-tuc",
                                              "Văn thư - Lưu trữ": "van-thu-luu-tru"}
        assert store.slug_taken(conn, "van-thu-luu-tru")
        assert store.slug_owner(conn, "van-thu-luu-tru") == "Văn thư - Lưu trữ"
        assert [b.id for b in store.public_newest(conn, 10, category_slug="van-thu-luu-tru")] \
            == [first]
        assert not store.slug_taken(conn, "van-thu")  # a prefix is not a slug
        # "Van thu - Luu tru" folds to the same slug: it gets a distinct one, as a first
        # category would.
        other = replace(clean(3, category="Chuyển đổi số"),
                        categories=("Chuyển đổi số", "Van thu - Luu tru"),
                        category_slugs=("chuyen-doi-so", "van-thu-luu-tru"))
        assigned = CategorySlugs().assign(conn, other)
        assert assigned.category_slugs[0] == "chuyen-doi-so"
        assert assigned.category_slugs[1].startswith("van-thu-luu-tru-")
