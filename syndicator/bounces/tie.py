"""Which delivery and subscriber a returned message is about: the signed tag first, then the
original Message-ID (confirmed by the recipient it names), then a recipient address."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
import structlog

from syndicator.bounces.report import Returned
from syndicator.models.address import UnsendableAddress, ascii_address
from syndicator.models.subscriber import email_key
from syndicator.state import returned
from syndicator.state import subscribers as subscriber_store
from syndicator.state.returned import DeliveryFacts

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Tie:
    """What a report was tied to, and how (None: to nothing of ours)."""

    by: str | None = None  # tag | message_id | subscriber_tag | address
    delivery: DeliveryFacts | None = None
    subscriber_id: int | None = None

    @property
    def signed(self) -> bool:
        """Tied by something a stranger cannot make: a tag, or a Message-ID together with the
        address it was sent to (docs/adr/011-returned-mail.md)."""
        return self.by in ("tag", "message_id", "subscriber_tag")


def tie(conn: sa.Connection, report: Returned) -> Tie:
    if report.delivery_id is not None:
        found = returned.delivery(conn, report.delivery_id)
        if found is not None:
            return Tie("tag", found, found.subscriber_id)
    named = named_addresses(report)
    if report.message_id:
        found = returned.delivery_by_message_id(conn, report.message_id)
        if found is not None and _forms(found.email) & {email_key(a) for a in named}:
            return Tie("message_id", found, found.subscriber_id)
        if found is not None:
            # Our Message-IDs are sequential: alone they prove nothing.
            log.info("bounces.message_id_unconfirmed", delivery_id=found.id, key=report.key[:16])
    if report.subscriber is not None:
        sid = report.subscriber.subscriber_id
        if subscriber_store.get(conn, sid) is not None:
            return Tie("subscriber_tag", returned.latest_sent(conn, sid), sid)
    by_address = returned.subscriber_by_address(conn, named)
    if by_address is not None:
        return Tie("address", returned.latest_sent(conn, by_address), by_address)
    return Tie()


def named_addresses(report: Returned) -> list[str]:
    """Every address the report names as a recipient, in the forms a subscriber may be stored
    in (a DSN writes the domain in IDNA; a subscriber may have typed it in Unicode)."""
    found: list[str] = []
    for r in report.recipients:
        found += [a for a in (r.original, r.address) if a]
    found += report.failed_recipients
    return list(dict.fromkeys(form for a in found for form in sorted(_forms(a))))


def domains(addresses: Iterable[str]) -> list[str]:
    """The domains only: what a log line may say of addresses that are not subscribers'."""
    return sorted({a.rpartition("@")[2].lower() for a in addresses})[:5]


def _forms(address: str) -> set[str]:
    forms = {email_key(address)}
    local, _, domain = address.rpartition("@")
    try:
        forms.add(email_key(ascii_address(address)))
        forms.add(email_key(f"{local}@{domain.encode('ascii').decode('idna')}"))
    except (UnsendableAddress, UnicodeError):
        pass
    return forms
