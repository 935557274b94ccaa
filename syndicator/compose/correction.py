"""What a correction or withdrawal says: old and new title, the lead's changed sentences."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from syndicator.models.correction import Correction

MAX_SENTENCES = 6  # of each side; the rest is on the portal, behind the link
SENTENCE_CHARS = 400
_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+")


@dataclass(frozen=True)
class CorrectionItem:
    """A correction as a template shows it (text; escaping is the template's job)."""

    id: int
    withdrawn: bool
    title: str
    old_title: str
    title_changed: bool
    url: str
    category: str | None
    published_at: datetime
    changed_at: datetime
    removed: tuple[str, ...]  # sentences of the lead that are gone or were reworded
    added: tuple[str, ...]  # their replacements and new sentences
    more: bool  # more changed sentences than shown


def sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def lead_changes(old: str, new: str) -> tuple[list[str], list[str]]:
    """(sentences removed or reworded, sentences added or rewritten), in reading order."""
    a, b = sentences(old), sentences(new)
    removed: list[str] = []
    added: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def item(c: Correction) -> CorrectionItem:
    removed, added = lead_changes(c.old_lead, c.lead) if not c.withdrawn else ([], [])
    return CorrectionItem(
        id=c.bulletin_id, withdrawn=c.withdrawn, title=c.title, old_title=c.old_title,
        title_changed=c.old_title != c.title, url=c.url, category=c.category,
        published_at=c.published_at, changed_at=c.changed_at,
        removed=tuple(_clip(s) for s in removed[:MAX_SENTENCES]),
        added=tuple(_clip(s) for s in added[:MAX_SENTENCES]),
        more=max(len(removed), len(added)) > MAX_SENTENCES)


def _clip(text: str) -> str:
    if len(text) <= SENTENCE_CHARS:
        return text
    return text[:SENTENCE_CHARS].rsplit(" ", 1)[0] + "…"
