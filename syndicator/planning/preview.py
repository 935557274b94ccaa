"""`syndicator preview`: a digest rendered from the state database for a sample recipient."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from syndicator.errors import UsageError
from syndicator.models.message import Digest, Recipient
from syndicator.models.subscriber import Subscriber
from syndicator.planning import periods
from syndicator.planning.audience import Audience, plan
from syndicator.planning.due import last_scheduled
from syndicator.state import bulletins as store
from syndicator.state import runs
from syndicator.subscribers.links import Links

FALLBACK_COUNT = 10
SAMPLE_EMAIL = "xem-truoc@example.invalid"


@dataclass(frozen=True)
class Preview:
    digest: Digest
    recipient: Recipient
    fallback: bool  # the period was empty: the newest public bulletins are shown instead


def build(settings: Settings, state: Engine, composer: DigestComposer, frequency: str,
          large: bool, now: datetime | None = None) -> Preview:
    now = now or datetime.now(UTC)
    start, end = _period(settings, frequency, now)
    with state.connect() as conn:
        found = store.announceable_seen_between(conn, start, end)
        fallback = not found
        if fallback:
            found = store.public_newest(conn, FALLBACK_COUNT)
    digest = Digest(digest_id=f"preview-{frequency}-{end:%Y%m%d%H%M}", frequency=frequency,
                    period_start=start, period_end=end, bulletins=tuple(found))
    return Preview(digest, sample_recipient(settings, composer, large), fallback)


def _period(settings: Settings, frequency: str, now: datetime) -> tuple[datetime, datetime]:
    """The period a preview shows: the last complete one; immediate has no calendar, so the
    last 24 hours."""
    if frequency == "immediate":
        return now - timedelta(days=1), now
    period = last_scheduled(settings, frequency, now)  # on the working calendar, if set
    return period.start, period.end


def parse_now(value: str, tz: ZoneInfo) -> datetime:
    """ISO 8601; a time without an offset is in the configured zone."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--now {value!r} is not an ISO 8601 time "
                         "(like 2023-11-27T07:00 or 2023-11-27T00:00Z)") from None
    return when if when.tzinfo else when.replace(tzinfo=tz)


def sample_recipient(settings: Settings, composer: DigestComposer, large: bool) -> Recipient:
    return _placeholder(settings, SAMPLE_EMAIL, str(composer.messages.preview_name),
                        "large" if large else "standard")


def render(composer: DigestComposer, preview: Preview, as_eml: bool) -> bytes:
    """The .eml bytes, or the HTML part of exactly those bytes (as the file transport and a
    server with 8BITMIME get them: 8bit)."""
    raw = composer.message(preview.digest, preview.recipient,
                           message_id=f"<{preview.digest.digest_id}@preview.invalid>",
                           date=preview.digest.period_end, eightbit=True)
    if as_eml:
        return raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    part = parsed.get_body(("html",))
    assert isinstance(part, EmailMessage)
    html: str = part.get_content()
    return html.encode("utf-8")


def next_for(settings: Settings, state: Engine, subscriber: Subscriber,
             now: datetime | None = None) -> Preview | None:
    """The digest this subscriber would get for the period in progress, with what has come in
    so far, chosen by the planner's own rule; None when nothing is due to them yet.

    Links are placeholders (a preview must not hand out working personal links).
    """
    now = now or datetime.now(UTC)
    with state.connect() as conn:
        start = _open_period_start(settings, conn, subscriber.frequency, now)
        found = store.announceable_seen_between(conn, start, now)
    who = Audience(subscriber.id, subscriber.categories,
                   subscriber.confirmed_at or subscriber.created_at)
    contents = plan(found, [who])
    if not contents:
        return None
    wanted = set(contents[0].bulletin_ids)
    end = now if subscriber.frequency == "immediate" else periods.next_end(
        periods.schedule(settings.digests, settings.tz), subscriber.frequency, now)
    digest = Digest(digest_id=f"preview-{subscriber.frequency}-{end:%Y%m%d%H%M}",
                    frequency=subscriber.frequency, period_start=start, period_end=end,
                    bulletins=tuple(b for b in found if b.id in wanted))
    return Preview(digest, _recipient(settings, subscriber), False)


def _open_period_start(settings: Settings, conn: sa.Connection, frequency: str,
                       now: datetime) -> datetime:
    """Where the period in progress began: the end of the last complete one (immediate: the
    end of the last immediate run, as the planner takes it)."""
    if frequency == "immediate":
        return runs.latest_end(conn, "immediate") or now - timedelta(days=7)
    return last_scheduled(settings, frequency, now).end  # on the working calendar, if set


def _recipient(settings: Settings, subscriber: Subscriber) -> Recipient:
    return _placeholder(settings, subscriber.email, subscriber.name, subscriber.text_size)


def _placeholder(settings: Settings, email: str, name: str, size: str) -> Recipient:
    """A recipient whose personal links lead nowhere (`xem-truoc` is no token)."""
    base = settings.base_url
    preferences = f"{base}/preferences/xem-truoc"
    return Recipient(email=email, name=name, text_size=size,
                     unsubscribe_url=f"{base}/unsubscribe/xem-truoc",
                     preferences_url=preferences,
                     switch_size_url=Links.switch_size(preferences, size))
