"""How often the pages may mail: one mail per address per interval, and a global hourly ceiling.

Both count the consent history (each mail the pages queue is a `<kind>_sent` event, written in
the transaction that queues it), so they hold across restarts and replicas. A stamp later
than now (a clock that was set back) never counts: it would otherwise hold mail until the
clock caught up (ADR 015).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from syndicator.state.schema import consent_events

PAGE_MAILS = ("confirmation", "manage_link")  # the mails anyone can make us send
_SENT = tuple(f"{kind}_sent" for kind in PAGE_MAILS)
_ENDED = (*_SENT, *(f"{kind}_failed" for kind in PAGE_MAILS))
HOUR = timedelta(hours=1)


class MailCeiling(Exception):
    """The pages sent `subscriptions.mails_per_hour` mails in the last hour: none now."""


def recently_mailed(conn: sa.Connection, subscriber_id: int, interval: timedelta,
                    now: datetime) -> bool:
    """A confirmation or manage-link mail went to this address within the interval (the two
    share one slot; a failed send frees it)."""
    last = conn.execute(
        sa.select(consent_events.c.event, consent_events.c.at)
        .where(consent_events.c.subscriber_id == subscriber_id,
               consent_events.c.event.in_(_ENDED), consent_events.c.at <= now)
        .order_by(consent_events.c.id.desc()).limit(1)).first()
    return bool(last and last.event.endswith("_sent") and last.at > now - interval)


def check_ceiling(conn: sa.Connection, per_hour: int, now: datetime) -> None:
    """Raise MailCeiling when the last hour already holds `per_hour` page mails (0: none)."""
    if per_hour <= 0:
        return
    sent = conn.scalar(
        sa.select(sa.func.count()).select_from(consent_events)
        .where(consent_events.c.event.in_(_SENT), consent_events.c.at > now - HOUR,
               consent_events.c.at <= now))
    if (sent or 0) >= per_hour:
        raise MailCeiling(per_hour)
