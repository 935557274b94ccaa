"""Sends the pages' own mail (confirmation, manage link) through the delivery transports."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from urllib.parse import urlsplit

import structlog

from syndicator.delivery.render import allowed
from syndicator.delivery.transport import Transport, make_transport
from syndicator.digests.composer import DigestComposer
from syndicator.digests.recipients import recipient_for
from syndicator.links import Links
from syndicator.settings import Settings
from syndicator.subscribers.selfservice import MailOrder

log = structlog.get_logger(__name__)


class PageMailer:
    """One short-lived transport per message: these mails are few and must not wait for digests."""

    def __init__(self, settings: Settings, links: Links) -> None:
        self._settings = settings
        self._links = links
        self._composer = DigestComposer(settings)
        self._host = urlsplit(settings.base_url).hostname or "localhost"

    def compose(self, order: MailOrder, now: datetime | None = None) -> tuple[str, bytes]:
        """(file name, message bytes) for the order."""
        sub = order.subscriber
        recipient = recipient_for(sub, self._links)
        name = f"{order.kind}-{sub.id}-{secrets.token_hex(6)}"
        mid = f"{name}@{self._host}"
        date = now or datetime.now(timezone.utc)
        if order.kind == "confirmation":
            url = self._links.confirm(sub.id, sub.token_version, order.request)
            return name, self._composer.confirmation(recipient, confirm_url=url, message_id=mid,
                                                     date=date)
        return name, self._composer.notice(recipient, "manage_link", message_id=mid, date=date)

    async def send(self, order: MailOrder) -> str | None:
        """None when sent (or held back by mail.allow_only); else why it failed."""
        mail = self._settings.mail
        if not allowed(order.subscriber.email, mail.allow_only):
            log.info("pages.mail_held", kind=order.kind, reason="mail.allow_only")
            return None
        name, data = self.compose(order)
        transport: Transport = make_transport(mail, self._settings.smtp)
        try:
            await transport.open()
            outcome = await transport.send(0, mail.from_address, order.subscriber.email, data,
                                           name)
        finally:
            await transport.close()
        if outcome.status == "sent":
            log.info("pages.mail_sent", kind=order.kind, subscriber=order.subscriber.id)
            return None
        log.warning("pages.mail_failed", kind=order.kind, subscriber=order.subscriber.id,
                    code=outcome.code, reply=outcome.reply)
        return outcome.reply or outcome.status
