"""A stand-in for the portal application: writes bulletin rows the way a CMS would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from syndicator.config.databases import create_engine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
DEFAULT_COLUMNS = {f: f for f in ("id", "title", "summary", "body_html", "author", "category",
                                  "url", "published_at", "updated_at", "status")}
# Portals on MariaDB keep long bodies in LONGTEXT (TEXT stops at 64 KB).
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def local(moment: datetime | str) -> datetime | str:
    """The portal keeps naive wall-clock time in its own zone (text passes as it is)."""
    if isinstance(moment, str):
        return moment
    return moment.astimezone(TZ).replace(tzinfo=None, microsecond=0)


class Portal:
    """A bulletin table with configurable names; rows are keyed by our field names."""

    def __init__(self, url: str, table: str = "bulletins",
                 columns: dict[str, str] | None = None, published: str = "published",
                 ts_type: Any = sa.DateTime, id_type: Any = sa.Integer,
                 ts_format: str | None = None, indexed: bool = False) -> None:
        self.columns = columns or DEFAULT_COLUMNS
        self.published = published
        self.engine = create_engine(url, "portal")
        self.text_ts = not isinstance(ts_type, type) or not issubclass(ts_type, sa.DateTime)
        self.ts_format = ts_format  # for text timestamps: None = ISO
        types: dict[str, Any] = {"id": id_type, "published_at": ts_type,
                                 "updated_at": ts_type, "title": LONG_TEXT,
                                 "status": sa.String(32), "category": sa.String(200)}
        self.table = sa.Table(table, sa.MetaData(), *[
            sa.Column(col, types.get(f, LONG_TEXT), primary_key=(f == "id"),
                      autoincrement=False)
            for f, col in self.columns.items()])
        if indexed:  # what a DBA might add; the poll must be bounded without them too
            for f in ("published_at", "updated_at"):
                if f in self.columns:
                    sa.Index(f"ix_{table}_{f}", self.table.c[self.columns[f]])
        self.table.metadata.create_all(self.engine)

    def insert(self, id: int | str, *, published_at: datetime | str = NOW - timedelta(hours=1),
               updated_at: datetime | None | str = "same", **fields: Any) -> None:
        row = {"id": id, "title": f"Bản tin số {id}", "summary": f"Tóm tắt {id}",
               "body_html": f"<p>Nội dung {id}</p>", "author": "Thanh Thuyên",
               "category": "Thi đua - Khen thưởng", "url": f"https://portal.example/tin/{id}",
               "status": self.published, "published_at": local(published_at)}
        row["updated_at"] = row["published_at"] if updated_at == "same" else (
            local(updated_at) if isinstance(updated_at, datetime) else updated_at)
        row.update(fields)
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(**self._cols(row)))

    def update(self, id: int | str, *, updated_at: datetime, **fields: Any) -> None:
        changes = fields | {"updated_at": updated_at}
        values = self._cols({k: local(v) if isinstance(v, datetime) else v
                             for k, v in changes.items()})
        with self.engine.begin() as conn:
            conn.execute(self.table.update().where(self.table.c[self.columns["id"]] == id)
                         .values(**values))

    def delete(self, id: int | str) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c[self.columns["id"]] == id))

    def _cols(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.text_ts:
            row = {k: self._text(v) if isinstance(v, datetime) else v for k, v in row.items()}
        return {self.columns[k]: v for k, v in row.items() if k in self.columns}

    def _text(self, moment: datetime) -> str:
        return moment.strftime(self.ts_format) if self.ts_format else moment.isoformat(sep=" ")
