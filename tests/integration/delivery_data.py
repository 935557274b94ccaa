"""Rows for delivery tests: bulletins first seen at given times, subscribers in given states."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from syndicator.state.schema import bulletins, subscribers
from syndicator.state.values import set_value

_ids = itertools.count(1)
UTC = UTC


def add_bulletin(engine: sa.Engine, seen: datetime, category: str = "Thông báo",
                 slug: str = "thong-bao", title: str = "Thông báo tuyển dụng",
                 notify: bool = True, state: str = "public") -> int:
    n = next(_ids)
    with engine.begin() as conn:
        return conn.execute(bulletins.insert().values(
            source_id=f"s{n}-{seen.timestamp()}", title=f"{title} {n}",
            summary="<p>Tóm tắt</p>", body_html="<p>Nội dung</p>", author="Văn phòng",
            category=category, category_slug=slug, url=f"https://portal.example/b/{n}",
            published_at=seen - timedelta(hours=1), first_seen_at=seen, changed_at=seen,
            content_hash=f"h{n}", state=state, notify=notify)).inserted_primary_key[0]


def add_subscriber(engine: sa.Engine, email: str, frequency: str = "daily",
                   status: str = "active", categories: list[str] | None = None,
                   created: datetime | None = None, paused: bool = False,
                   text_size: str = "standard") -> int:
    created = created or datetime(2020, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        return conn.execute(subscribers.insert().values(
            email=email, email_key=email.casefold(), name="Ủy ban nhân dân xã",
            frequency=frequency, categories=categories or [], text_size=text_size,
            status=status, paused=paused, consent_source="test", created_at=created,
            updated_at=created, confirmed_at=created if status == "active" else None,
        )).inserted_primary_key[0]


def add_subscribers(engine: sa.Engine, count: int, frequency: str = "daily",
                    prefix: str = "agency") -> None:
    """Many active subscribers at once (benchmarks, kill tests)."""
    created = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [dict(email=f"{prefix}{i}@example.gov.vn", email_key=f"{prefix}{i}@example.gov.vn",
                 name=f"Đơn vị {i}", frequency=frequency, categories=[],
                 text_size="large" if i % 5 == 0 else "standard", status="active",
                 paused=False, consent_source="test", created_at=created, updated_at=created,
                 confirmed_at=created) for i in range(count)]
    with engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(subscribers.insert(), rows[start:start + 2000])


def set_watermark(engine: sa.Engine, at: datetime) -> None:
    with engine.begin() as conn:
        set_value(conn, "ingest.watermark", at.isoformat())
