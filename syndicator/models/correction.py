"""What a reader is told when a bulletin they received is corrected or withdrawn (pure data),
and what counts as a change in substance: the visible text, never markup or white space."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from syndicator.models.text import html_to_text, one_line

NOTIFY_MODES = ("immediate", "next_digest", "off")


@dataclass(frozen=True)
class Substance:
    """The visible text of one version of a bulletin, normalised for comparison."""

    title: str
    lead: str  # the summary's text, one line ('' without a summary)
    text: str  # title, lead and body text, each on one line

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def substance(title: str, summary_html: str | None, body_html: str | None) -> Substance:
    """Markup, entities and every run of white space (line breaks included) count for nothing."""
    lead = one_line(html_to_text(summary_html or ""))
    body = one_line(html_to_text(body_html or ""))
    t = one_line(title)
    return Substance(title=t, lead=lead, text="\n".join((t, lead, body)))


@dataclass(frozen=True)
class Correction:
    """One announcement to a subscriber: bulletin `bulletin_id` went from the version they had
    (`old_*`) to `version`, which is either a corrected text or a withdrawal."""

    bulletin_id: int
    version: int
    withdrawn: bool
    old_title: str
    title: str  # the current title (a withdrawn bulletin's last one)
    old_lead: str
    lead: str
    url: str  # the bulletin on the portal: its current version
    category: str | None
    published_at: datetime  # aware UTC
    changed_at: datetime  # aware UTC: when we saw the correction or withdrawal
