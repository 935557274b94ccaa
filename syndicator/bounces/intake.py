"""One returned message in: classified, tied to its delivery, recorded once and applied.

The record is inserted first in the transaction that applies the message, keyed by the
message (`Returned.key`): a second reader of the same message, in this process or another
replica, waits on that unique key until the first commits and then finds it recorded. So a
message piped twice, a mailbox re-read after a crash, or two readers at once have one effect.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog

from syndicator.bounces import mime
from syndicator.bounces.classify import classify
from syndicator.bounces.effects import Effect, Effects
from syndicator.bounces.report import Kind, Returned
from syndicator.bounces.tie import Tie, tie
from syndicator.compose.verp import Verp
from syndicator.config.settings import Settings
from syndicator.state import returned
from syndicator.state.conflicts import with_retries
from syndicator.subscribers.tokens import verp_for

log = structlog.get_logger(__name__)
KEEP_BYTES = 256 * 1024  # of an unknown or refused message, kept for a look
_DIAGNOSTIC_CHARS = 300


@dataclass(frozen=True)
class Taken:
    """What became of one message: its report, its effect, and its record (None: it had been
    recorded before, by this reader or another, and did nothing this time)."""

    report: Returned
    effect: str
    record_id: int | None

    @property
    def duplicate(self) -> bool:
        return self.record_id is None


class Intake:
    """Takes returned messages one at a time (thread-safe: every call is its own transaction)."""

    def __init__(self, settings: Settings, engine: sa.Engine, verp: Verp | None) -> None:
        self._engine = engine
        self._verp = verp
        self._limit = settings.bounces.max_message_bytes
        self._effects = Effects(settings, verp)

    @classmethod
    def configured(cls, settings: Settings, engine: sa.Engine) -> Intake:
        return cls(settings, engine, verp_for(settings, engine))

    def take(self, raw: bytes, *, now: datetime | None = None) -> Taken:
        """Classify and record `raw`; database errors propagate (nothing was recorded)."""
        report = classify(raw, self._verp, limit=self._limit)
        when = now or datetime.now(UTC)
        try:
            taken = with_retries(functools.partial(self._record, report, raw, when))
        except sa.exc.IntegrityError:
            with self._engine.connect() as conn:
                if not returned.recorded(conn, report.key):
                    raise
            log.info("bounces.duplicate", **report.log_fields())
            return Taken(report, "duplicate", None)
        return taken

    def _record(self, report: Returned, raw: bytes, now: datetime) -> Taken:
        with self._engine.begin() as conn:
            record_id = returned.insert(conn, report.key, report.kind.value, report.reason[:32],
                                        report.size, now)
            found = tie(conn, report)
            msg = mime.headers(raw) if report.kind is Kind.UNKNOWN else None
            effect = self._effects.apply(conn, report, found, msg, record_id, now)
            returned.finish(conn, record_id, effect=effect.name, tied_by=found.by,
                            delivery_id=found.delivery.id if found.delivery else None,
                            subscriber_id=found.subscriber_id,
                            detail=_detail(report, effect),
                            raw=raw[:KEEP_BYTES] if effect.keep else None)
        log.info("bounces.recorded", effect=effect.name, tied_by=found.by,
                 tied_delivery=_delivery_id(found), record_id=record_id, **report.log_fields())
        return Taken(report, effect.name, record_id)


def _detail(report: Returned, effect: Effect) -> dict[str, Any]:
    failed = next((r for r in report.recipients if r.diagnostic), None)
    detail: dict[str, Any] = {"status": report.status, "message_id": report.message_id,
                              "recipients": len(report.recipients)}
    if failed is not None:
        detail["diagnostic"] = (failed.diagnostic or "")[:_DIAGNOSTIC_CHARS]
    if report.feedback_type:
        detail["feedback_type"] = report.feedback_type
    return detail | effect.detail


def _delivery_id(found: Tie) -> int | None:
    return found.delivery.id if found.delivery else None
