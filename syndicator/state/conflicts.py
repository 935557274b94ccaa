"""Short transactions run again after a deadlock or a serialization failure."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")


def with_retries(fn: Callable[[], T], tries: int = 4) -> T:
    """Run a short transaction again after a deadlock or serialization failure."""
    for attempt in range(1, tries + 1):
        try:
            return fn()
        except sa.exc.OperationalError as exc:
            if attempt == tries or not _is_conflict(exc):
                raise
            log.info("delivery.transaction_retried", attempt=attempt)
            time.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")


def _is_conflict(exc: sa.exc.OperationalError) -> bool:
    code = getattr(exc.orig, "args", [None])[0] if exc.orig else None
    state = getattr(exc.orig, "sqlstate", None)
    return code in (1205, 1213) or state in ("40001", "40P01")
