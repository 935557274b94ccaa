"""Liveness and readiness: what the daemon last saw, and the verdict /healthz/ready gives."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 5.0
# Several missed heartbeats before we call the scheduler stuck: a long GC pause or a
# loaded machine must not flap readiness.
STALE_AFTER_SECONDS = 30.0


@dataclass
class Health:
    """Facts the jobs record; read by the HTTP routes. Times are time.monotonic().

    `problems()` is public (/healthz/ready): it names what is wrong, never a host, user or
    database name; the detail is in `db_error`, `poll_error` and the log lines.
    """

    stale_after: float = STALE_AFTER_SECONDS
    last_tick: float | None = None
    db_ok: bool | None = None
    db_error: str = ""
    db_checked: float = 0.0
    poll_ok: bool | None = None
    poll_error: str = ""
    stopping: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def _now(self) -> float:
        return self.clock()

    def tick(self) -> None:
        self.last_tick = self._now()

    outage_since: float | None = None  # the state database went away then (monotonic)

    def database(self, ok: bool, error: str = "") -> None:
        """What the last use of the state database found; logs once when an outage starts
        (`state.unavailable`, with the reason) and once when it ends (`state.available`)."""
        self.db_ok, self.db_error, self.db_checked = ok, error, self._now()
        if not ok and self.outage_since is None:
            self.outage_since = self._now()
            log.error("state.unavailable", error=error[:300])
        elif ok and self.outage_since is not None:
            log.warning("state.available",
                        down_seconds=round(self._now() - self.outage_since, 1))
            self.outage_since = None

    def poll(self, ok: bool, error: str = "") -> None:
        self.poll_ok, self.poll_error = ok, error

    def problems(self) -> list[str]:
        """Why we are not ready; empty when ready."""
        out: list[str] = []
        if self.stopping:
            out.append("shutting down")
        if self.last_tick is None:
            out.append("scheduler has not ticked yet")
        elif self._now() - self.last_tick > self.stale_after:
            out.append(f"scheduler has not ticked for {self._now() - self.last_tick:.0f} s")
        if self.db_ok is None:
            out.append("state database not checked yet")
        elif not self.db_ok:  # the detail (hosts, users, database names) goes to the log only
            out.append("state database unreachable")
        elif self._now() - self.db_checked > self.stale_after:
            # The probe hangs (a network partition): no answer is not a good answer.
            out.append(f"state database has not answered for {self._now() - self.db_checked:.0f} s")
        if self.poll_ok is None:
            out.append("no poll has finished yet")
        elif not self.poll_ok:
            out.append("last poll failed (see the job.failed log line)")
        return out
