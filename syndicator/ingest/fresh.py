"""New rows by integer id (`id > highest seen`) and a watch on those not public yet."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from syndicator.source.portal import PortalSource, SourceRow

NEW_ROWS = "ingest.new_rows"  # the state value holding a FreshState
_PAGE = 500
# Bounds on the stored state (a TEXT value on MariaDB: 64 KB): marks pile up only if our
# clock went back; a longer watch would cost more than the sweeps it saves.
_MAX_MARKS = 64
_MAX_WAITING = 1000


@dataclass(frozen=True)
class FreshState:
    """Where paging new ids starts, and the recent rows that may still become public."""

    # (poll start, highest id read by then), oldest first: we page from the highest id known
    # `overlap` ago, so a row committed late under a lower id is still found.
    marks: tuple[tuple[datetime, int], ...]
    # Ids read while not public yet (drafts, scheduled): re-read by key until they are.
    waiting: tuple[int, ...] = ()

    @classmethod
    def load(cls, text: str | None) -> FreshState | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(tuple((datetime.fromisoformat(t), int(i)) for t, i in data["marks"]),
                   tuple(int(i) for i in data["waiting"]))

    def dump(self) -> str:
        return json.dumps({"marks": [[t.isoformat(), i] for t, i in self.marks],
                           "waiting": list(self.waiting)})

    def clamped(self, at: datetime) -> FreshState:
        """Marks a clock that ran ahead put after `at` are taken as made at `at`."""
        return FreshState(tuple((min(t, at), i) for t, i in self.marks), self.waiting)

    def start(self, now: datetime, overlap: timedelta) -> int:
        """The id to page after: the highest we knew `overlap` ago."""
        old = [i for t, i in self.marks if t <= now - overlap]
        return old[-1] if old else self.marks[0][1]

    def advance(self, now: datetime, overlap: timedelta, read: Iterable[SourceRow],
                waiting: Iterable[int], limit: int) -> FreshState:
        """After a poll: one more mark, marks older than needed dropped, the newest waiting."""
        high = max([self.marks[-1][1], *(int(r.key) for r in read)])
        old = [m for m in self.marks if m[0] <= now - overlap][-1:]
        recent = [m for m in self.marks if m[0] > now - overlap]
        marks = (*old, *recent, (now, high))[-_MAX_MARKS:]
        return FreshState(marks, newest(waiting, limit))


def newest(ids: Iterable[int], limit: int) -> tuple[int, ...]:
    """The highest (newest) ids, at most `limit` of them and never more than we can store."""
    return tuple(sorted(set(ids))[-min(limit, _MAX_WAITING):])


def read(source: PortalSource, state: FreshState, now: datetime,
         overlap: timedelta) -> tuple[list[SourceRow], list[SourceRow]]:
    """Key columns of rows with ids past the start, and of the rows still waiting."""
    # Every page is an index range on the id; how many depends only on how many rows are new.
    pages = source.all_rows(_PAGE, after=str(state.start(now, overlap)), keys_only=True)
    new = [row for page in pages for row in page]
    waiting = [str(i) for i in state.waiting]
    return new, source.by_ids(waiting, keys_only=True) if waiting else []
