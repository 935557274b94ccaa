"""What the operator's alert about a late digest run shows, from its outbox payload (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

_TIMES = ("period_start", "period_end", "deadline")


def overdue_context(payload: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The payload's facts with its times in the configured zone, for run_overdue.*.j2."""
    counts = dict(payload.get("counts") or {})
    canary = [dict(c, sent_at=_local(c.get("sent_at"), tz)) for c in payload.get("canary") or ()]
    return {
        "frequency": payload["frequency"], "run_id": payload.get("run_id"),
        "minutes": payload["minutes"], "canary": canary,
        "sent": counts.get("sent", 0), "failed": counts.get("failed", 0),
        "skipped": counts.get("skipped", 0),
        "unfinished": counts.get("pending", 0) + counts.get("sending", 0),
        **{name: _local(payload[name], tz) for name in _TIMES},
    }


def _local(value: str | None, tz: ZoneInfo) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(tz) if value else None
