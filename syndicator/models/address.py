"""Mail addresses and URLs as they may appear in a header: checked, ASCII, never folded."""

from __future__ import annotations

import re

from syndicator.errors import PermanentError
from syndicator.models.text import one_line

URL_SAFE = re.compile(r"[\x21-\x7e]+")
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


class UnsendableAddress(PermanentError, ValueError):
    """An address or header value that cannot be put in a message as given."""


def ascii_address(email: str) -> str:
    """local@domain with the domain in IDNA; a non-ASCII local part needs SMTPUTF8."""
    local, sep, domain = one_line(email).rpartition("@")
    if not sep or not local or not domain or not _ATEXT.fullmatch(local):
        raise UnsendableAddress(f"{email!r} is not an address we can put in a header")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsendableAddress(f"{email!r}: the domain is not a valid name") from None
    if not re.fullmatch(r"[a-z0-9.-]+", domain):
        raise UnsendableAddress(f"{email!r}: the domain is not a valid name")
    return f"{local}@{domain}"
