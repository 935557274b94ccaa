"""The JSON columns of a stored bulletin: its categories, document details and files."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Any

import sqlalchemy as sa

from syndicator.models.bulletin import Attachment, CleanBulletin, DocumentDetails
from syndicator.state.schema import bulletins


def encode(b: CleanBulletin) -> dict[str, Any]:
    """The columns of migration 0010 for this bulletin (NULL where it has nothing)."""
    pairs = b.all_categories
    doc = None
    if b.document is not None:
        data = asdict(b.document)
        data["issued_at"] = b.document.issued_at.isoformat() if b.document.issued_at else None
        doc = _dump(data)
    return {"categories": _dump(pairs) if pairs else None, "document": doc,
            "attachments": _dump([asdict(a) for a in b.attachments]) if b.attachments else None}


def decode(row: Any) -> dict[str, Any]:
    """The Bulletin fields those columns hold; a bulletin stored before 0010 has none."""
    pairs = json.loads(row.categories) if row.categories else []
    doc = json.loads(row.document) if row.document else None
    if doc is not None:
        doc["issued_at"] = date.fromisoformat(doc["issued_at"]) if doc["issued_at"] else None
    files = json.loads(row.attachments) if row.attachments else []
    return {"categories": tuple(p[0] for p in pairs),
            "category_slugs": tuple(p[1] for p in pairs),
            "document": DocumentDetails(**doc) if doc else None,
            "attachments": tuple(Attachment(**a) for a in files)}


def in_category(slug: str) -> sa.ColumnElement[bool]:
    """Bulletins with `slug` among their categories (the first, or any in the JSON list)."""
    return sa.or_(bulletins.c.category_slug == slug,
                  bulletins.c.categories.like(f'%"{_escape(slug)}"]%', escape="\\"))


def _escape(slug: str) -> str:
    return slug.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
