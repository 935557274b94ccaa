"""What each kind of returned message does to our records, once it is tied (docs/adr/011)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any

import sqlalchemy as sa
import structlog

from syndicator.bounces import mime
from syndicator.bounces.report import Kind, Returned
from syndicator.bounces.tags import forged_unsubscribe
from syndicator.bounces.tie import Tie, domains, named_addresses
from syndicator.compose.verp import Verp
from syndicator.config.settings import Settings
from syndicator.state import returned
from syndicator.state import subscribers as subscriber_store
from syndicator.subscribers import outcomes

log = structlog.get_logger(__name__)
_SMTP_CODE = re.compile(r"(?<!\d)([45]\d\d)(?![\d.])")
_NOTHING = (Kind.SOFT, Kind.DELIVERED, Kind.AUTO_REPLY)  # recorded, nothing changes


@dataclass(frozen=True)
class Effect:
    """What a message did (`name`, the `effect` column) and whether its bytes are kept."""

    name: str
    keep: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


class Effects:
    """Applies one classified, tied message inside the caller's transaction."""

    def __init__(self, settings: Settings, verp: Verp | None) -> None:
        self._threshold = settings.delivery.bounce_threshold
        self._forward = settings.mail.reply_to is not None
        self._verp = verp

    def apply(self, conn: sa.Connection, report: Returned, tie: Tie, msg: Message | None,
              record_id: int, now: datetime) -> Effect:
        if report.kind in _NOTHING:
            return Effect("none")
        if report.kind is Kind.HARD:
            return self._hard(conn, report, tie, now)
        if report.kind is Kind.COMPLAINT:
            return self._complaint(conn, report, tie, record_id, now)
        if report.kind is Kind.UNSUBSCRIBE:
            return self._unsubscribe(conn, report, record_id, now)
        return self._unknown(report, msg)

    def _hard(self, conn: sa.Connection, report: Returned, tie: Tie, now: datetime) -> Effect:
        if tie.delivery is not None and tie.delivery.subscriber_id is None:
            # A canary's copy: shown on its delivery, counted against no subscriber.
            self._mark(conn, report, tie.delivery.id, now)
            return Effect("no_subscriber")
        if tie.subscriber_id is None:
            named = named_addresses(report)
            if named:
                log.info("bounces.not_a_subscriber", domains=domains(named), key=report.key[:16])
                return Effect("not_a_subscriber")
            return Effect("untied", keep=True)
        if tie.delivery is None:
            return Effect("no_delivery")
        marked, code = self._mark(conn, report, tie.delivery.id, now)
        if not marked:
            # Refused at sending time (counted then), or this delivery's bounce was counted.
            sent = tie.delivery.status in ("sent", "failed")
            return Effect("already_counted" if sent else "not_sent")
        suspended = outcomes.late_bounce(conn, tie.subscriber_id, self._threshold, now, {
            "code": code, "status": report.status, "delivery_id": tie.delivery.id})
        return Effect("suspended" if suspended else "counted", detail={"code": code})

    @staticmethod
    def _mark(conn: sa.Connection, report: Returned, delivery_id: int,
              now: datetime) -> tuple[bool, int | None]:
        """Mark the late bounce on the delivery (False: it was refused at sending time or
        already has one), with the SMTP code its diagnostic quotes."""
        failed = next((r for r in report.recipients if r.permanent), None)
        diagnostic = failed.diagnostic if failed else None
        code = _smtp_code(diagnostic)
        return returned.mark_late_bounce(conn, delivery_id, status=report.status, code=code,
                                         detail=diagnostic, now=now), code

    def _complaint(self, conn: sa.Connection, report: Returned, tie: Tie, record_id: int,
                   now: datetime) -> Effect:
        if not tie.signed or tie.subscriber_id is None:
            # An address alone would let anyone unsubscribe anyone by mailing a report.
            log.warning("bounces.complaint_untied", key=report.key[:16], tied_by=tie.by)
            return Effect("untied", keep=True)
        if tie.by == "subscriber_tag" and _stale(conn, report):
            log.warning("bounces.complaint_refused", reason="stale_link",
                        subscriber_id=tie.subscriber_id, key=report.key[:16])
            return Effect("refused_stale", keep=True)
        done = outcomes.unsubscribe(conn, tie.subscriber_id, source="complaint", now=now,
                                    detail={"reason": "complaint", "returned_id": record_id,
                                            "feedback_type": report.feedback_type})
        return Effect("unsubscribed" if done else "already_unsubscribed")

    def _unsubscribe(self, conn: sa.Connection, report: Returned, record_id: int,
                     now: datetime) -> Effect:
        tag = report.subscriber
        assert tag is not None  # the classifier's UNSUBSCRIBE is a verified mailto tag
        if subscriber_store.get(conn, tag.subscriber_id) is None or _stale(conn, report):
            # `subscribers reset-links` voided the mailto of every mail sent before it.
            log.warning("bounces.unsubscribe_refused", reason="stale_link",
                        subscriber_id=tag.subscriber_id, key=report.key[:16])
            return Effect("refused_stale", keep=True)
        done = outcomes.unsubscribe(conn, tag.subscriber_id, source="mailto", now=now,
                                    detail={"reason": "mailto", "returned_id": record_id})
        return Effect("unsubscribed" if done else "already_unsubscribed")

    def _unknown(self, report: Returned, msg: Message | None) -> Effect:
        subject = {"subject": mime.text(msg, "Subject")[:200],
                   "from": mime.text(msg, "From")[:200]} if msg is not None else {}
        if report.reason in ("oversize", "unparsed"):
            return Effect("refused", keep=True, detail=subject)  # classify logged why
        if msg is not None and forged_unsubscribe(self._verp, msg):
            log.warning("bounces.unsubscribe_refused", reason="forged_tag", key=report.key[:16])
            return Effect("refused_forged", keep=True, detail=subject)
        return Effect("forward" if self._forward else "kept", keep=True, detail=subject)


def _stale(conn: sa.Connection, report: Returned) -> bool:
    tag = report.subscriber
    sub = subscriber_store.get(conn, tag.subscriber_id) if tag else None
    return tag is None or sub is None or sub.token_version != tag.version


def _smtp_code(diagnostic: str | None) -> int | None:
    """The SMTP reply code a Diagnostic-Code quotes ("smtp; 550 5.1.1 ..."), if any."""
    found = _SMTP_CODE.search(diagnostic or "")
    return int(found[1]) if found else None
