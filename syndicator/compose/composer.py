"""DigestComposer: digest and confirmation messages as bytes, rendered once, personalised fast."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import structlog

from syndicator.compose import alerts, correction, mime
from syndicator.compose.mime import Piece, Skeleton
from syndicator.compose.render import (
    HTML_LIMIT,
    PERSONAL_RESERVE,
    SUBJECT_TITLE_CHARS,
    Rendered,
    Renderer,
    clip,
)
from syndicator.config.settings import Settings
from syndicator.errors import ConfigError
from syndicator.models.address import URL_SAFE, ascii_address
from syndicator.models.correction import Correction
from syndicator.models.message import Digest, Recipient
from syndicator.models.text import one_line

__all__ = ["Digest", "DigestComposer", "Recipient"]

log = structlog.get_logger(__name__)
T = TypeVar("T")

NOTICES = ("unsubscribed", "preferences_changed", "manage_link")
MAX_NAME = 200  # as the subscriber model allows; also bounds the size guard's reserve
SLOTS = ("name", "email", "unsubscribe", "preferences", "switch_size", "confirm")
LIST_LABEL = "bantin"  # the default List-Id is <bantin.HOST> (RFC 2919)
CACHE_SIZE = 128  # skeletons: (period, category set, variant) combinations in flight


class DigestComposer:
    """Renders each (digest, bulletins, variant) once; message() only fills in a recipient."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._renderer = Renderer(settings)
        # A per-process secret in the tokens: bulletin text can never spell a placeholder.
        self._nonce = secrets.token_hex(8)
        self._tokens = {slot: f"zq{self._nonce}{slot.replace('_', '')}qz" for slot in SLOTS}
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._default_name = one_line(str(self._renderer.messages().default_name))
        self._fixed = self._fixed_headers(settings)

    # --- public surface ---------------------------------------------------------------------

    def message(self, digest: Digest, recipient: Recipient, *, message_id: str,
                date: datetime, eightbit: bool = False) -> bytes:
        """Complete RFC 5322 message bytes (CRLF), ready for SMTP DATA or an .eml file.

        eightbit: the bodies may be 8bit UTF-8 (the server offers 8BITMIME, RFC 6152); the
        size guard then counts one byte per byte, so more bulletins fit in full. Without it
        every byte is 7-bit ASCII (quoted-printable).
        """
        if not digest.bulletins:
            raise ValueError(f"digest {digest.digest_id!r} is empty; nothing is sent then")
        skeleton = self._digest(digest, recipient.large, eightbit, PERSONAL_RESERVE)
        try:
            values = self._values(recipient, message_id, date, skeleton.hole_kinds)
        except mime.UnfitFor8bit:  # a personal value no 8bit line can hold: 7-bit then
            eightbit = False
            skeleton = self._digest(digest, recipient.large, eightbit, PERSONAL_RESERVE)
            values = self._values(recipient, message_id, date, skeleton.hole_kinds)
        values["h:unsub"] = mime.list_unsubscribe(
            recipient.unsubscribe_url,
            recipient.unsubscribe_mailto or self._settings.mail.unsubscribe_mailto)
        if skeleton.html_size(values) > HTML_LIMIT:
            # Longer personal values than the reserve allows: a skeleton fitted for them.
            needed = skeleton.html_size(values) - skeleton.html_fixed
            reserve = -(-needed // PERSONAL_RESERVE) * PERSONAL_RESERVE
            tight = self._digest(digest, recipient.large, eightbit, reserve)
            if tight.hole_kinds != skeleton.hole_kinds:
                values |= self._values(recipient, message_id, date, tight.hole_kinds)
            skeleton = tight
        return skeleton.fill(values)

    def _digest(self, digest: Digest, large: bool, eightbit: bool, reserve: int) -> Skeleton:
        # The bulletins themselves are the key: equal content, equal skeleton, whatever
        # the ids (frozen dataclasses hash by value; strings cache their hashes).
        key = ("digest", digest, large, eightbit, reserve)
        return self._cached(key, lambda: self._digest_skeleton(digest, large, eightbit,
                                                               reserve))

    @property
    def messages(self) -> Any:
        """Shared short texts of templates/email/messages.j2 (default and sample names)."""
        return self._renderer.messages()

    def subject(self, digest: Digest) -> str:
        return self._renderer.subject(digest)

    def web_copy(self, digest: Digest, *, large: bool) -> str:
        """The HTML page served at /digests/<id>[?size=large] (no personal links)."""
        return self._cached(("web", digest, large), lambda: self._renderer.digest(
            digest, large=large, personal=None, fits=None).html)

    def confirmation(self, recipient: Recipient, *, confirm_url: str, message_id: str,
                     date: datetime) -> bytes:
        """The double opt-in mail (used by the subscribe pages later)."""
        key = ("confirmation", recipient.large)
        skeleton = self._cached(key, lambda: self._transactional("confirmation",
                                                                 recipient.large, {}))
        values = self._values(recipient, message_id, date)
        values |= mime.hole_values({"confirm": mime.url(confirm_url)})
        return skeleton.fill(values)

    def notice(self, recipient: Recipient, kind: str, *, message_id: str,
               date: datetime) -> bytes:
        """A short service notice: kind 'unsubscribed', 'preferences_changed' or 'manage_link'."""
        if kind not in NOTICES:
            raise ValueError(f"unknown notice {kind!r} (one of {', '.join(NOTICES)})")
        key = ("notice", kind, recipient.large)
        skeleton = self._cached(key, lambda: self._transactional("notice", recipient.large,
                                                                 {"notice": kind}))
        return skeleton.fill(self._values(recipient, message_id, date))

    def correction(self, c: Correction, recipient: Recipient, *, message_id: str,
                   date: datetime, eightbit: bool = False) -> bytes:
        """'Đính chính: <title>' or 'Thu hồi: <title>' to one who received the bulletin, with
        the digest's headers (List-Unsubscribe, List-Id); rendered once per version and size."""
        def build(eight: bool) -> Skeleton:
            return self._cached(("correction", c, recipient.large, eight),
                                lambda: self._correction(c, recipient.large, eight))

        skeleton = build(eightbit)
        try:
            values = self._values(recipient, message_id, date, skeleton.hole_kinds)
        except mime.UnfitFor8bit:  # a personal value no 8bit line can hold: 7-bit then
            skeleton = build(False)
            values = self._values(recipient, message_id, date, skeleton.hole_kinds)
        values["h:unsub"] = mime.list_unsubscribe(
            recipient.unsubscribe_url,
            recipient.unsubscribe_mailto or self._settings.mail.unsubscribe_mailto)
        return skeleton.fill(values)

    def _correction(self, c: Correction, large: bool, eightbit: bool) -> Skeleton:
        extra = {"c": correction.item(c),
                 "subject_title": clip(one_line(c.title), SUBJECT_TITLE_CHARS)}
        rendered = self._renderer.transactional("correction", large=large,
                                                personal=self._tokens, extra=extra)
        return self._build(self._head(rendered.subject, listed=True), rendered,
                           f"correction/{c.bulletin_id}/{c.version}/{large}", eightbit)

    def operator_alert(self, kind: str, to: str, payload: Mapping[str, Any], *,
                       message_id: str, date: datetime) -> bytes:
        """A mail to the operator (kind 'run_overdue'): rendered each time, it is rare."""
        facts = alerts.overdue_context(payload, self._settings.tz) | {"to": to}
        rendered = self._renderer.transactional(kind, large=False, personal={}, extra=facts)
        skeleton = self._build(self._head(rendered.subject, listed=False), rendered,
                               f"{kind}/{message_id}")
        return skeleton.fill({"h:date": mime.date_header(date),
                              "h:msgid": f"Message-ID: {mime.message_id(message_id)}\r\n"
                              .encode("ascii"),
                              "h:to": mime.address_header("To", "", to)})

    # --- rendering once ---------------------------------------------------------------------

    def _digest_skeleton(self, digest: Digest, large: bool, eightbit: bool,
                         reserve: int) -> Skeleton:
        def fits(html: str) -> bool:
            size = mime.encoded_size(html, self._tokens, "html", eightbit)
            return size + reserve <= HTML_LIMIT

        rendered = self._renderer.digest(digest, large=large, personal=self._tokens, fits=fits)
        head = self._head(rendered.subject, listed=True)
        skeleton = self._build(head, rendered, f"{digest.digest_id}/{large}", eightbit)
        log.info("digest.skeleton_rendered", digest_id=digest.digest_id,
                 variant="large" if large else "standard", bulletins=len(digest.bulletins),
                 full=rendered.full, headlines=rendered.shown - rendered.full,
                 encoding="8bit" if skeleton.eightbit else "quoted-printable",
                 html_bytes=skeleton.html_fixed)
        return skeleton

    def _transactional(self, kind: str, large: bool, extra: dict[str, str]) -> Skeleton:
        rendered = self._renderer.transactional(kind, large=large, personal=self._tokens,
                                                extra=extra)
        return self._build(self._head(rendered.subject, listed=False), rendered,
                           f"{kind}/{extra}/{large}")

    def _build(self, head: list[Piece], rendered: Rendered, seed: str,
               eightbit: bool = False) -> Skeleton:
        parts = [("plain", rendered.text), ("html", rendered.html)]
        for _, body in parts:
            for token in self._tokens.values():
                body = body.replace(token, "")
            if self._nonce in body.lower():
                # A template filter changed a placeholder (upper-cased, cut): never send that.
                raise RuntimeError("a personal placeholder was altered by a template")
        return mime.skeleton(head, parts, self._tokens, seed + rendered.subject,
                             eightbit=eightbit)

    def _head(self, subject: str, *, listed: bool) -> list[Piece]:
        head: list[Piece] = ["h:date", self._fixed["from"], "h:to",
                             mime.header("Subject", subject), "h:msgid"]
        # RFC 3834, and Exchange's own switch: no out-of-office replies to a bulletin sender.
        head += [self._fixed["reply_to"], b"Auto-Submitted: auto-generated\r\n",
                 b"X-Auto-Response-Suppress: OOF, AutoReply\r\n"]
        if listed:
            head += [self._fixed["list_id"], "h:unsub",
                     b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"]
        return head

    def _cached(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return cast(T, found)
        built = build()
        with self._lock:
            self._cache[key] = built
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return built

    # --- per recipient ----------------------------------------------------------------------

    def _values(self, r: Recipient, message_id: str, date: datetime,
                kinds: Collection[str] = ("html", "text")) -> dict[str, bytes]:
        """Every hole's bytes (raises UnfitFor8bit when a value cannot be on an 8bit line)."""
        name = one_line(r.name)[:MAX_NAME].strip()
        values = mime.hole_values({
            "name": name or self._default_name,
            "email": ascii_address(r.email),
            "unsubscribe": mime.url(r.unsubscribe_url),
            "preferences": mime.url(r.preferences_url),
            "switch_size": mime.url(r.switch_size_url),
        }, kinds)
        values["h:date"] = mime.date_header(date)
        values["h:msgid"] = f"Message-ID: {mime.message_id(message_id)}\r\n".encode("ascii")
        values["h:to"] = mime.address_header("To", name, r.email)
        return values

    @staticmethod
    def _fixed_headers(s: Settings) -> dict[str, bytes]:
        reply_to = mime.address_header("Reply-To", "", s.mail.reply_to) if s.mail.reply_to \
            else b""
        return {"from": mime.address_header("From", s.mail.from_name, s.mail.from_address),
                "reply_to": reply_to, "list_id": _list_id(s)}


def _list_id(s: Settings) -> bytes:
    """List-Id: the configured one, or '<bantin.HOST>' with the site title as its phrase."""
    configured = one_line(s.mail.list_id or "")
    if configured:
        ident = configured if configured.startswith("<") else f"<{configured}>"
        phrase = ""
    else:
        host = urlsplit(s.base_url).hostname or "localhost"
        # A host that already names the list (bantin.sonoivu...) is not prefixed twice.
        label = host if host.startswith(LIST_LABEL + ".") else f"{LIST_LABEL}.{host}"
        ident, phrase = f"<{label}>", one_line(s.site.title)
    if not (ident.isascii() and URL_SAFE.fullmatch(ident)):
        raise ConfigError(f"mail.list_id {configured!r} must be ASCII like bantin.example.gov.vn")
    if not phrase:
        return f"List-Id: {ident}\r\n".encode("ascii")
    return f"List-Id: {mime.phrase(phrase, first=9)}\r\n {ident}\r\n".encode("ascii")
