"""Finding our VERP tags in a returned message: where the envelope put them, then anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from syndicator.bounces import mime
from syndicator.compose.verp import DeliveryTag, Tag, UnsubscribeTag, Verp

# Where an MTA writes the address a message was delivered to, most telling first.
_RECIPIENT_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "X-Envelope-To", "To",
                      "Cc")
_MAILTO = re.compile(r"<mailto:([^?>]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Tags:
    """The verified tags of one message."""

    delivery_id: int | None = None
    subscriber: UnsubscribeTag | None = None  # whose message it is about, wherever found
    to_unsubscribe: UnsubscribeTag | None = None  # the mailto it was sent to (a request)

    @classmethod
    def find(cls, verp: Verp | None, msg: Message, original: Message | None, raw: bytes, *,
             envelope: str | None, also: Iterable[str | None] = ()) -> Tags:
        """Tags from the envelope recipient and the report's recipient headers first, then the
        DSN's envelope fields (`also`), our original's headers, and lastly the raw text."""
        if verp is None:
            return cls()
        addressed = _read(verp, [envelope, *_recipients(msg)])
        ours = _read(verp, [*also, *_ours(original)])
        scanned = verp.scan(raw.decode("latin-1"))
        everything = [*addressed, *ours, *scanned]
        return cls(delivery_id=next((t.delivery_id for t in everything
                                     if isinstance(t, DeliveryTag)), None),
                   subscriber=_first_unsubscribe(everything),
                   to_unsubscribe=_first_unsubscribe(addressed))


def forged_unsubscribe(verp: Verp | None, msg: Message) -> bool:
    """Sent to an address shaped like a subscriber's mailto whose MAC does not verify: someone
    guessed at a tag (only called for messages no verified tag was found in)."""
    return verp is not None and any(verp.names_subscriber(a) for a in _recipients(msg))


def _recipients(msg: Message) -> Iterator[str]:
    for name in _RECIPIENT_HEADERS:
        for _, address in getaddresses(mime.texts(msg, name)):
            yield address


def _ours(original: Message | None) -> Iterator[str]:
    """Our message's Return-Path and its List-Unsubscribe mailto, as returned."""
    if original is None:
        return
    yield mime.text(original, "Return-Path")
    yield from _MAILTO.findall(mime.text(original, "List-Unsubscribe"))


def _read(verp: Verp, addresses: Iterable[str | None]) -> list[Tag]:
    return [tag for a in addresses if a and (tag := verp.read(a)) is not None]


def _first_unsubscribe(tags: list[Tag]) -> UnsubscribeTag | None:
    return next((t for t in tags if isinstance(t, UnsubscribeTag)), None)
