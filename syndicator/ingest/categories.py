"""Category slugs at ingest: one feed per category, even when two names fold to one slug."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa
import structlog

from syndicator.models.bulletin import CleanBulletin
from syndicator.models.text import category_key, distinct_slug
from syndicator.state import bulletins as store

log = structlog.get_logger(__name__)


class CategorySlugs:
    """The first category to take a plain slug keeps it (feed addresses never move); a later
    name that differs in more than case, spacing or punctuation ("Chuyen doi so" after
    "Chuyển đổi số") gets distinct_slug(name), and a warning once."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}  # plain slug -> the name that holds it

    def assign(self, conn: sa.Connection, b: CleanBulletin) -> CleanBulletin:
        if not b.category or not b.category_slug:
            return b
        if not b.categories:
            return replace(b, category_slug=self._slug(conn, b.category, b.category_slug))
        slugs = tuple(self._slug(conn, n, s) for n, s in zip(b.categories, b.category_slugs,
                                                               strict=True))
        return replace(b, category_slug=slugs[0], category_slugs=slugs)

    def _slug(self, conn: sa.Connection, name: str, plain: str) -> str:
        owner = self._owner(conn, plain, name)
        if category_key(owner) == category_key(name):
            return plain
        slug = distinct_slug(name)
        if not store.slug_taken(conn, slug):  # the first bulletin of this name: say so once
            log.warning("ingest.category_slug_collision", category=name,
                        slug=slug, plain_slug=plain, taken_by=owner)
        return slug

    def _owner(self, conn: sa.Connection, slug: str, name: str) -> str:
        if slug not in self._owners:
            self._owners[slug] = store.slug_owner(conn, slug) or name
        return self._owners[slug]
