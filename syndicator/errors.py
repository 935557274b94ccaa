"""The error hierarchy: one base, user errors apart from transient and permanent failures."""

from __future__ import annotations


class SyndicatorError(Exception):
    """Base of every error this program raises on purpose."""

    exit_code = 1


class ConfigError(SyndicatorError, ValueError):
    """The configuration has a bad value; the message names the key."""

    exit_code = 2


class UsageError(SyndicatorError, ValueError):
    """A command was called with bad arguments or input (a CSV row, an address)."""

    exit_code = 2


class SourceError(SyndicatorError):
    """The portal's database cannot be read as configured."""


class SourceSchemaError(SourceError, LookupError):
    """The portal's table lacks a mapped column or does not exist."""

    exit_code = 2


class RowError(SourceError, ValueError):
    """One source row cannot be ingested; the others go on.

    `reason` is a short label for metrics: id, encoding, date, empty, too_long, url, type,
    duplicate_id.
    """

    def __init__(self, source_id: str, field: str, problem: str,
                 reason: str = "invalid") -> None:
        super().__init__(f"bulletin {source_id[:100]!r}: {field}: {problem[:300]}")
        self.source_id = source_id
        self.field = field
        self.problem = problem
        self.reason = reason


class StateError(SyndicatorError):
    """Our own state database cannot be used (unreachable, not migrated)."""


class TransientError(SyndicatorError):
    """A failure worth retrying later (a 4xx reply, a timeout, a lost connection)."""


class WorkLeft(TransientError):
    """The command did what it could; messages are still queued for a retry (EX_TEMPFAIL)."""

    exit_code = 75


class PermanentError(SyndicatorError):
    """A failure that retrying will not fix (a 5xx reply, a rejected address)."""
