"""`syndicator preview`: a digest rendered from the state database for a sample recipient."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from syndicator.errors import UsageError
from syndicator.models.message import Digest, Recipient
from syndicator.planning.due import last_scheduled
from syndicator.state import bulletins as store
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
    base = settings.base_url
    name = str(composer.messages.preview_name)
    size = "large" if large else "standard"
    preferences = f"{base}/preferences/xem-truoc"
    return Recipient(email=SAMPLE_EMAIL, name=name, text_size=size,
                     unsubscribe_url=f"{base}/unsubscribe/xem-truoc",
                     preferences_url=preferences,
                     switch_size_url=Links.switch_size(preferences, size))


def render(composer: DigestComposer, preview: Preview, as_eml: bool) -> bytes:
    """The .eml bytes, or the HTML part of exactly those bytes."""
    raw = composer.message(preview.digest, preview.recipient,
                           message_id=f"<{preview.digest.digest_id}@preview.invalid>",
                           date=preview.digest.period_end)
    if as_eml:
        return raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    part = parsed.get_body(("html",))
    assert isinstance(part, EmailMessage)
    html: str = part.get_content()
    return html.encode("utf-8")
