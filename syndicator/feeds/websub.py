"""Tells a WebSub hub which feeds changed (best effort: a failure is logged, never raised)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

import structlog

log = structlog.get_logger(__name__)
TIMEOUT_SECONDS = 5.0
_MAX_PINGS = 100  # one build never waits on the hub for more than this many requests


def ping(hub: str, topics: Sequence[str], timeout: float = TIMEOUT_SECONDS) -> int:
    """POSTs hub.mode=publish for each changed topic URL; returns how many the hub accepted."""
    accepted = 0
    for topic in list(topics)[:_MAX_PINGS]:
        body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
        request = urllib.request.Request(hub, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                accepted += 200 <= response.status < 300
        except (OSError, ValueError) as exc:  # URLError, HTTPError and timeouts are OSErrors
            log.warning("feeds.websub_failed", hub=hub, topic=topic, error=str(exc))
            if not isinstance(exc, urllib.error.HTTPError):
                break  # unreachable or timing out: the next topics would only wait as long
    return accepted
