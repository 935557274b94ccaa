"""A digest period: which frequency, and the half-open span of time it covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Period:
    """[start, end) in aware UTC; boundaries fall on the configured local wall-clock time."""

    frequency: str
    start: datetime
    end: datetime
