"""Which edits of a bulletin are corrections in substance, and which changes are withdrawals:
recorded as versions in the poll's own transaction, so a crash after it loses no notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from rapidfuzz.distance import Levenshtein

from syndicator.models.bulletin import Bulletin, CleanBulletin
from syndicator.models.correction import Substance, substance
from syndicator.state import versions
from syndicator.state.versions import Version


def in_substance(before: Substance, after: Substance, min_changed_chars: int) -> bool:
    """At least `min_changed_chars` characters of visible text differ (edit distance)."""
    if before.text == after.text:
        return False
    distance = Levenshtein.distance(before.text, after.text, score_cutoff=min_changed_chars)
    return distance >= min_changed_chars


def note_update(conn: sa.Connection, old: Bulletin, new: CleanBulletin, now: datetime,
                min_changed_chars: int) -> Version | None:
    """A new version when `new` differs in substance from the last recorded one, or brings
    a withdrawn bulletin back; None for a cosmetic edit (or one below the threshold)."""
    if not old.notify:
        return None  # never mailed to anyone: nobody to tell
    last = versions.latest(conn, old.id)
    after = substance(new.title, new.summary, new.body_html)
    before = last.substance if last is not None else _of(old)
    back = last is not None and last.state == "withdrawn"
    if not back and not in_substance(before, after, min_changed_chars):
        return None
    base = last or versions.insert(conn, old.id, 1, "public", before, old.changed_at)
    return versions.insert(conn, old.id, base.version + 1, "public", after, now)


def note_withdrawals(conn: sa.Connection, olds: Sequence[Bulletin], now: datetime) -> None:
    """A withdrawn version of each bulletin that was mailed and is public until now."""
    for old in olds:
        if not old.notify or old.state != "public":
            continue
        last = versions.latest(conn, old.id) or versions.insert(
            conn, old.id, 1, "public", _of(old), old.changed_at)
        if last.state != "withdrawn":
            versions.insert(conn, old.id, last.version + 1, "withdrawn", last.substance, now)


def _of(b: Bulletin) -> Substance:
    return substance(b.title, b.summary, b.body_html)
