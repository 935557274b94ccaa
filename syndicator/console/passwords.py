"""Passwords: argon2id hashes (argon2-cffi), the rules a new password meets, a constant-time
answer for accounts that do not exist."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from syndicator.errors import UsageError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a megabyte "password" is only a way to burn CPU
# argon2-cffi's default is RFC 9106's low-memory profile (argon2id, t=3, m=64 MiB, p=4):
# about 0.5 s on a loaded 2-core machine, so each guess costs the guesser as much.
_hasher = PasswordHasher()


def use_hasher(hasher: PasswordHasher) -> None:
    """Tests swap in a cheap profile; the program never calls this."""
    global _hasher
    _hasher = hasher
    _dummy.cache_clear()


def check_rules(email: str, password: str) -> None:
    """UsageError saying what is wrong with a new password."""
    if len(password) < MIN_LENGTH:
        raise UsageError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise UsageError(f"the password must have at most {MAX_LENGTH} characters")
    if password.strip().casefold() in (email.strip().casefold(),
                                       email.partition("@")[0].strip().casefold()):
        raise UsageError("the password must not be the address")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches; with no stored hash, the same work is done and False given
    (an attacker cannot tell unknown accounts by the time an answer takes)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


@functools.lru_cache(maxsize=1)
def _dummy() -> str:
    return _hasher.hash("not a password of anyone")
