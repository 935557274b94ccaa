"""Signed VERP addresses: bounces+TAG@domain names one delivery, or one subscriber's mailto.

A delivery's envelope sender is `bounces+<id>-<mac>@domain`; the List-Unsubscribe mailto of a
subscriber is `bounces+u-<id>-<version>-<mac>@domain`. The MAC is an HMAC-SHA256 of the purpose
and the numbers under the link-signing secret, cut to 50 bits and written in lowercase base32:
no one can make a valid tag for a delivery or a subscriber they were not sent, and a relay that
lower-cases local parts (some do) changes nothing, because tags are read case-insensitively.
The token version makes `subscribers reset-links` void the mailto of mail already sent, as it
voids the links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import parseaddr

_MAC_CHARS = 10  # 50 bits: a forger gets one guess per message we read
_MAX_NUMBER = 10**15 - 1  # ids and versions are row counters; 15 digits is ample
# The longest tag: "u-" + 15 digits + "-" + 15 digits + "-" + the MAC.
MAX_TAG_LENGTH = 2 + 15 + 1 + 15 + 1 + _MAC_CHARS
_DELIVERY = re.compile(rf"(\d{{1,15}})-([a-z2-7]{{{_MAC_CHARS}}})")
_UNSUBSCRIBE = re.compile(rf"u-(\d{{1,15}})-(\d{{1,15}})-([a-z2-7]{{{_MAC_CHARS}}})")


@dataclass(frozen=True)
class DeliveryTag:
    """The envelope sender named this delivery (deliveries.id)."""

    delivery_id: int


@dataclass(frozen=True)
class UnsubscribeTag:
    """The List-Unsubscribe mailto of this subscriber at this token version."""

    subscriber_id: int
    version: int


Tag = DeliveryTag | UnsubscribeTag


class Verp:
    """Makes and reads the tagged addresses of one return path (`bounces.return_path`)."""

    def __init__(self, return_path: str, secret: str) -> None:
        local, _, domain = return_path.rpartition("@")
        if not local or not domain:
            raise ValueError(f"{return_path!r} is not an address")
        self._local = local.lower()
        self._domain = domain.lower()
        # A key of its own, so a VERP MAC can never be replayed as a link token's signature.
        self._key = hmac.new(secret.encode(), b"syndicator.verp", hashlib.sha256).digest()

    def envelope_sender(self, delivery_id: int) -> str:
        """MAIL FROM for one delivery: every DSN about it comes back to this address."""
        number = _checked(delivery_id)
        return self._address(f"{number}-{self._mac('d', number)}")

    def unsubscribe_address(self, subscriber_id: int, version: int) -> str:
        """The mailto of List-Unsubscribe for one subscriber (valid until reset-links)."""
        sid, ver = _checked(subscriber_id), _checked(version)
        return self._address(f"u-{sid}-{ver}-{self._mac('u', sid, ver)}")

    def read(self, address: str) -> Tag | None:
        """The tag an address carries, or None: another address, a forged or garbled tag."""
        tag = self._tag_of(address)
        if tag is None:
            return None
        if m := _DELIVERY.fullmatch(tag):
            number = int(m[1])
            return DeliveryTag(number) if self._valid(m[2], "d", number) else None
        if m := _UNSUBSCRIBE.fullmatch(tag):
            sid, ver = int(m[1]), int(m[2])
            return UnsubscribeTag(sid, ver) if self._valid(m[3], "u", sid, ver) else None
        return None

    def names_subscriber(self, address: str) -> bool:
        """The address has the shape of a subscriber's mailto of this return path, whether or
        not its MAC verifies (to tell a forged unsubscribe request from any other mail)."""
        tag = self._tag_of(address)
        return tag is not None and tag.startswith("u-")

    def scan(self, text: str, limit: int = 20) -> list[Tag]:
        """Valid tags of this return path anywhere in a text (older bounces quote our headers
        in their body), in order of appearance, at most `limit` candidates looked at."""
        pattern = re.compile(re.escape(self._local) + rf"\+([a-z0-9-]{{12,{MAX_TAG_LENGTH}}})@",
                             re.IGNORECASE)
        found: list[Tag] = []
        for count, m in enumerate(pattern.finditer(text)):
            if count >= limit:
                break
            tag = self.read(f"{self._local}+{m[1]}@x")
            if tag is not None and tag not in found:
                found.append(tag)
        return found

    def _tag_of(self, address: str) -> str | None:
        # The domain is not checked: an alias may have rewritten it, and the MAC is the proof.
        addr = parseaddr(address.strip())[1] or address.strip().strip("<>")
        local = addr.rpartition("@")[0].lower()
        prefix = self._local + "+"
        return local[len(prefix):] if local.startswith(prefix) else None

    def _address(self, tag: str) -> str:
        return f"{self._local}+{tag}@{self._domain}"

    def _mac(self, purpose: str, *numbers: int) -> str:
        message = ":".join([purpose, *map(str, numbers)]).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.b32encode(digest).decode()[:_MAC_CHARS].lower()

    def _valid(self, mac: str, purpose: str, *numbers: int) -> bool:
        return hmac.compare_digest(mac, self._mac(purpose, *numbers))


def _checked(number: int) -> int:
    if not 0 <= number <= _MAX_NUMBER:
        raise ValueError(f"{number} does not fit in a VERP tag")
    return number
