"""Pure rules for the self-service pages: allowed domains, a per-client rate window, and what
a confirmation link may still do."""

from __future__ import annotations

import fnmatch
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence


def domain_allowed(email: str, patterns: Sequence[str]) -> bool:
    """No patterns: every address. '*.gov.vn' matches any subdomain; 'backan.gov.vn' exactly."""
    if not patterns:
        return True
    domain = email.rpartition("@")[2].casefold().rstrip(".")
    return any(fnmatch.fnmatchcase(domain, p.strip().casefold().rstrip(".")) for p in patterns)


def confirmation_state(status: str, request: int | None, left: int | None) -> str:
    """'open' (confirming activates), 'active' (already confirmed) or 'closed'.

    `request` is the consent event a confirmation link was mailed for (None in links mailed
    before links carried it), `left` the subscriber's latest unsubscribe or bounce event.
    A link mailed before the address left must not bring it back: only a request made
    after that (a new subscribe form, a new confirmation mail) may.
    """
    if status == "active":
        return "active"
    if status == "pending":
        return "open"
    if request is not None and request > (left or 0):
        return "open"
    return "closed"


class SlidingWindow:
    """At most `limit` hits per key in the last `seconds` (in memory: per process, bounded)."""

    def __init__(self, limit: int, seconds: float, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limit, self._seconds, self._max_keys = limit, seconds, max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Count one hit; False when the key is over its limit (the hit is then not counted)."""
        if self._limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - self._seconds:
                hits.popleft()
            allowed = len(hits) < self._limit
            if allowed:
                hits.append(now)
            self._hits[key] = hits  # most recently seen last: the oldest keys are evicted
            while len(self._hits) > self._max_keys:
                self._hits.popitem(last=False)
            return allowed
