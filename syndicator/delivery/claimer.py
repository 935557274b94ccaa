"""Takes due deliveries in batches under a lease, fixes their Message-IDs and prepares them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa

from syndicator.config.settings import Settings
from syndicator.delivery.prepare import Prepared, Preparer, message_id_for
from syndicator.delivery.recorder import Recorder
from syndicator.delivery.report import DeliverReport
from syndicator.delivery.transport import Outcome
from syndicator.state import leases, outbox
from syndicator.state.conflicts import with_retries
from syndicator.state.outbox import Claimed


class Claimer:
    """One round's claims: `claim()` a batch, `give_back()` what was never started."""

    def __init__(self, settings: Settings, engine: sa.Engine, preparer: Preparer,
                 recorder: Recorder, report: DeliverReport, batch: int,
                 retry_from: datetime | None) -> None:
        self._settings = settings
        self._engine = engine
        self._preparer = preparer
        self._recorder = recorder
        self._report = report
        self.batch = batch  # halved by the sender when a claim waited too long to be sent
        self._retry_from = retry_from  # --retry-now: backoff is ignored for this round

    def claim(self) -> list[Claimed]:
        return with_retries(self._claim_once)

    def prepare(self, claims: list[Claimed], eightbit: bool) -> list[Prepared]:
        """Message bytes for the claims; 8bit bodies when the transport takes them."""
        with self._engine.connect() as conn:
            return self._preparer.prepare(conn, claims, eightbit=eightbit)

    def give_back(self, ids: list[int]) -> None:
        """Pending again, the attempt not counted (only while our lease holds them)."""
        if ids:
            with self._engine.begin() as conn:
                outbox.release(conn, ids, leases.OWNER, datetime.now(UTC))
            self._report.released += len(ids)

    def _claim_once(self) -> list[Claimed]:
        now = datetime.now(UTC)
        delivery = self._settings.delivery
        if self._engine.dialect.name == "sqlite":  # renew the one-sender lease while busy
            holder = leases.acquire(self._engine, leases.SENDER, delivery.lease_seconds, now)
            if holder is not None:
                self._report.unreachable = f"the SQLite sender lease passed to {holder}"
                return []
        with self._engine.begin() as conn:
            claims = outbox.claim(conn, leases.OWNER, now, self.batch, delivery.lease_seconds,
                                  self._retry_from)
            fresh = {c.id: message_id_for(c, self._preparer.host)
                     for c in claims if c.message_id is None}
            outbox.set_message_ids(conn, fresh)
        claims = [replace(c, message_id=c.message_id or fresh[c.id]) for c in claims]
        expired = [c for c in claims if c.attempts > delivery.max_attempts]
        if expired:  # a lease ran out after the last attempt (a crash): give up, say why
            self._recorder.write([(Prepared(c, "", c.message_id or ""), Outcome(
                "retry", None, "lease expired during the last attempt")) for c in expired])
            claims = [c for c in claims if c not in expired]
        if not claims:
            return [] if not expired else self._claim_once()
        return claims
