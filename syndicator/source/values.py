"""Pure parsing of the portal's raw column values (timestamps, bytes, status) into Python."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from syndicator.models.text import one_line

# Formats seen in portal databases besides ISO 8601; day-first is the Vietnamese convention.
_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y%m%d",  # ACF's date picker (WordPress custom fields) stores Ymd
)
_LONGEST = 64  # characters: no timestamp format above is longer
# Local ISO 8601 without an offset: the only text whose string order is its time order.
_SORTABLE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def parse_timestamp(value: object, tz: ZoneInfo) -> datetime:
    """An aware UTC datetime; naive values are wall-clock time in `tz`. Raises ValueError."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time())
    elif isinstance(value, str):
        dt = _parse_string(value.strip())
    elif isinstance(value, bytes):
        dt = _parse_string((as_text(value) or "").strip())
    else:
        raise ValueError(f"not a timestamp: {type(value).__name__} {value!r:.40}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # 0001-01-01 in a zone east of UTC falls before year 1
        raise ValueError(f"{dt.isoformat()} is out of range") from None


def _parse_string(text: str) -> datetime:
    if len(text) > _LONGEST:  # a body pasted into a date column: not worth parsing
        raise ValueError(f"cannot read {text[:40]!r}... ({len(text)} characters) as a date")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"cannot read {text[:40]!r} as a date and time")


class Undecodable(bytes):
    """A text column's bytes that are not text in the database's encoding (read as they are,
    so that one such value costs its row, not the whole read)."""


def decode_sqlite_text(raw: bytes) -> str | Undecodable:
    """SQLite's text_factory for the portal: a stray byte would fail the whole fetch."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return Undecodable(raw)


def as_text(value: object) -> str | None:
    """A column value as str; bytes from legacy portals are UTF-8, else Windows-1258.

    Raises ValueError for a text column's value that is not text in its encoding.
    """
    if value is None:
        return None
    if isinstance(value, Undecodable):
        raise ValueError(f"is not valid UTF-8 text ({bytes(value[:24])!r}...)")
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1258", errors="replace")
    return str(value)


def local_naive(moment: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock time in `tz`, without tzinfo, to compare with naive portal columns."""
    return moment.astimezone(tz).replace(tzinfo=None)


def sorts_as_time(text: str) -> bool:
    """Whether comparing this text with an ISO bound as strings compares the times."""
    return _SORTABLE.fullmatch(text) is not None


def status_text(value: object) -> str:
    """A portal status as compared with source.published_status: one line, NFC."""
    return one_line(as_text(value) or "")


def public_at(values: Mapping[str, object], published_status: str,
              tz: ZoneInfo) -> datetime | None:
    """When the portal shows this row (UTC); None unless its status is the published one.

    The one test of a row's status. Raises ValueError when published_at cannot be read.
    """
    if status_text(values.get("status")) != published_status:
        return None
    return parse_timestamp(values.get("published_at"), tz)
