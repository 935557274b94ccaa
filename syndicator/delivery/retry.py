"""What an attempt that did not end in "sent" becomes (pure): skipped, retried later, or final."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from syndicator.config.settings import DeliverySettings


@dataclass(frozen=True)
class Verdict:
    """The delivery's new status, when it may be tried again, and the report counter."""

    status: str  # "pending" (retry) | "failed" | "skipped"
    next_at: datetime
    counter: str  # DeliverReport field: retried | bounced | failed | skipped


def after_attempt(outcome: str, attempts: int, delivery: DeliverySettings,
                  now: datetime) -> Verdict:
    """`outcome` is "skip", "bounce" (a 5xx: final) or "retry" (a 4xx, a timeout); `attempts`
    counts the one just made. Retries wait retry_delays[attempts - 1] (the last repeats)."""
    if outcome == "skip":
        return Verdict("skipped", now, "skipped")
    if outcome == "bounce":
        return Verdict("failed", now, "bounced")
    if attempts >= delivery.max_attempts:
        return Verdict("failed", now, "failed")
    delays = delivery.retry_delays
    delay = delays[min(attempts, len(delays)) - 1]
    return Verdict("pending", now + timedelta(seconds=delay), "retried")
