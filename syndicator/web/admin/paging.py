"""Page keys from query strings: a bad key is no key (the first page), never an error."""

from __future__ import annotations

MAX_KEY = 2**62


def key_int(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 18:
        return None
    number = int(value)
    return number if 0 < number < MAX_KEY else None


def key_text(value: str | None) -> str | None:
    return value[:320] if value else None
