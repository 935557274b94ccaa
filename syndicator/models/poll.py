"""What the last poll did, as the poll step writes it and the console reads it (plain data)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

MAX_SKIPPED = 100  # rows kept per summary: a portal with thousands of bad rows needs a look anyway


@dataclass(frozen=True)
class SkippedRow:
    """A portal row a poll could not read or clean, and why."""

    source_id: str
    field: str
    problem: str


@dataclass(frozen=True)
class PollSummary:
    """One finished (or failed) poll: when, what it found, which rows it skipped."""

    started_at: datetime
    finished_at: datetime
    ok: bool
    error: str = ""
    new: int = 0
    changed: int = 0
    withdrawn: int = 0
    archived: int = 0
    rows_read: int = 0
    skipped: tuple[SkippedRow, ...] = field(default_factory=tuple)
    skipped_total: int = 0  # may exceed len(skipped)

    def dump(self) -> str:
        data = asdict(self) | {"started_at": self.started_at.isoformat(),
                               "finished_at": self.finished_at.isoformat()}
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def load(cls, text: str | None) -> PollSummary | None:
        """None when absent or unreadable (an older program wrote something else)."""
        if not text:
            return None
        try:
            data: dict[str, Any] = json.loads(text)
            data["started_at"] = datetime.fromisoformat(data["started_at"])
            data["finished_at"] = datetime.fromisoformat(data["finished_at"])
            data["skipped"] = tuple(SkippedRow(**row) for row in data.get("skipped", ()))
            return cls(**data)
        except (ValueError, KeyError, TypeError):
            return None
