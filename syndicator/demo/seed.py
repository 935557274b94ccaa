"""Seeds the embedded SQLite portal with Vietnamese demo bulletins, and demo subscribers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from syndicator.config.databases import create_engine, parse_url
from syndicator.config.settings import Settings
from syndicator.errors import UsageError
from syndicator.models.subscriber import NewSubscriber
from syndicator.source.values import local_naive
from syndicator.state import subscribers as subscriber_store

DEMO_SUBSCRIBERS = (
    NewSubscriber(email="vanphong@ubnd-babe.example", name="Văn phòng UBND huyện Ba Bể",
                  frequency="immediate"),
    NewSubscriber(email="noivu@chodon.example", name="Phòng Nội vụ huyện Chợ Đồn",
                  frequency="daily", text_size="large",
                  categories=("Công chức, viên chức", "Tổ chức bộ máy")),
    NewSubscriber(email="hanhchinh@thpt-backan.example", name="Trường THPT Bắc Kạn",
                  frequency="weekly"),
)


@dataclass
class DemoReport:
    bulletins_added: int = 0
    subscribers_added: int = 0


def load_bulletins() -> list[dict[str, Any]]:
    text = (resources.files("syndicator.demo") / "bulletins.yaml").read_text(encoding="utf-8")
    bulletins: list[dict[str, Any]] = yaml.safe_load(text)
    return bulletins


def seed(settings: Settings, state: Engine, now: datetime | None = None) -> DemoReport:
    """Create what is missing; never change what is there."""
    now = now or datetime.now(UTC)
    report = DemoReport()
    report.bulletins_added = _seed_portal(settings, now)
    with state.begin() as conn:
        for sub in DEMO_SUBSCRIBERS:
            if subscriber_store.get_by_email(conn, sub.email) is None:
                subscriber_store.insert(conn, sub, status="active", source="demo", now=now,
                                        detail={"note": "demo subscriber"})
                report.subscribers_added += 1
    return report


def _seed_portal(settings: Settings, now: datetime) -> int:
    raw = settings.source.url.get_secret_value()
    if parse_url(raw, "source.url").get_backend_name() != "sqlite":
        raise UsageError("`syndicator demo` seeds only an embedded SQLite portal; source.url "
                         "points elsewhere (the real portal is never written to)")
    engine = create_engine(raw, "source.url")
    table = _portal_table(settings)
    table.metadata.create_all(engine)
    c = settings.source.columns
    with engine.begin() as conn:
        have = set(conn.scalars(sa.select(table.c[c.id])))
        rows = [_row(settings, b, now) for b in load_bulletins() if b["id"] not in have]
        if rows:
            conn.execute(table.insert(), rows)
    engine.dispose()
    return len(rows)


def _portal_table(settings: Settings) -> sa.Table:
    """The portal's table under the configured column names (naive local timestamps)."""
    c = settings.source.columns
    types: dict[str, Any] = {"id": sa.Integer, "published_at": sa.DateTime,
                             "updated_at": sa.DateTime}
    cols = [sa.Column(getattr(c, f), types.get(f, sa.Text), primary_key=(f == "id"))
            for f in ("id", "title", "summary", "body_html", "author", "category", "url",
                      "published_at", "updated_at", "status") if getattr(c, f)]
    return sa.Table(settings.source.table, sa.MetaData(), *cols)


def _row(settings: Settings, b: dict[str, Any], now: datetime) -> dict[str, Any]:
    c = settings.source.columns
    published = local_naive(now - timedelta(days=float(b["days_ago"])), settings.tz)
    published = published.replace(microsecond=0)
    values = {
        c.id: b["id"], c.title: b["title"], c.summary: b["summary"], c.body_html: b["body_html"],
        c.author: b["author"], c.category: b["category"],
        c.url: f"{str(settings.site.url).rstrip('/')}/tin-tuc/{b['slug']}-{b['id']}.html",
        c.published_at: published, c.updated_at: published,
        c.status: settings.source.published_status if b["status"] == "published" else b["status"],
    }
    return {k: v for k, v in values.items() if k}
