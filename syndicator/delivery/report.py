"""What one sending round did, as the CLI, the daemon and the logs report it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DeliverReport:
    """What one round did; `unreachable` names why it stopped early, if it did."""

    sent: int = 0
    retried: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    lease_short: int = 0  # claims given back unsent: they waited in the queue too long
    stopped: bool = False
    unreachable: str | None = None
    runs_completed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
