"""Which bulletins each subscriber's digest holds (pure): grouped so each content renders once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from syndicator.models.bulletin import Bulletin
from syndicator.models.text import category_key, slugify


@dataclass(frozen=True)
class Audience:
    """The few subscriber fields that decide a digest's content."""

    id: int
    categories: tuple[str, ...]
    since: datetime  # confirmed_at, else created_at: nothing older is sent to them


@dataclass(frozen=True)
class Content:
    """One distinct digest content of a run and the subscribers who receive it."""

    key: str
    bulletin_ids: tuple[int, ...]
    subscriber_ids: tuple[int, ...]


def slug_lookup(slugs: Mapping[str, str]) -> Callable[[str], str]:
    """A subscriber's category name -> its feed's slug: the slug the category's bulletins
    carry (distinct when two names fold alike), matched by category_key; else slugify."""
    by_key = {category_key(name): slug for name, slug in slugs.items()}

    def slug_of(name: str) -> str:
        return by_key.get(category_key(name)) or slugify(name)

    return slug_of


def content_key(bulletin_ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(bulletin_ids))).encode()).hexdigest()


def plan(bulletins: Sequence[Bulletin], audience: Iterable[Audience],
         slug_of: Callable[[str], str] = slugify) -> list[Content]:
    """Group subscribers by the exact bulletins they get; subscribers with none get nothing."""
    groups: dict[tuple[int, ...], list[int]] = {}
    cached = lru_cache(maxsize=4096)(lambda cats: frozenset(slug_of(c) for c in cats))
    for who in audience:
        slugs = cached(who.categories)
        ids = tuple(b.id for b in bulletins
                    if b.first_seen_at >= who.since and (not slugs or _any_of(b, slugs)))
        if ids:
            groups.setdefault(ids, []).append(who.id)
    return [Content(content_key(ids), ids, tuple(subs)) for ids, subs in groups.items()]


def _any_of(b: Bulletin, slugs: frozenset[str]) -> bool:
    """In any of the subscriber's categories (once in the digest, however many match)."""
    return b.category_slug in slugs or any(s in slugs for s in b.category_slugs)


def public_digest_id(frequency: str, run_id: int, period_end_local: datetime, key: str) -> str:
    """A stable, readable id for /digests/<id>: the same run and content give the same id."""
    digest = hashlib.sha256(f"{run_id}:{key}".encode()).hexdigest()[:10]
    return f"{frequency}-{period_end_local:%Y%m%d-%H%M}-{digest}"


def canary_content(contents: Sequence[Content]) -> Content | None:
    """What a canary address gets: every bulletin the run sends anyone (None: it sends none)."""
    ids = sorted({i for c in contents for i in c.bulletin_ids})
    if not ids:
        return None
    return Content(content_key(ids), tuple(ids), ())
