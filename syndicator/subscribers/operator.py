"""Subscriber use cases behind the CLI: add, remove, reset links, consent history, list, CSV
import and export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.errors import UsageError
from syndicator.models.subscriber import STATUSES, NewSubscriber, Subscriber
from syndicator.state import subscribers as store
from syndicator.subscribers.cells import from_sheet, to_sheet
from syndicator.subscribers.rules import InvalidField, build, check_choice

CSV_COLUMNS = ("email", "name", "frequency", "categories", "text_size")
# An operator's `add` is consent given another way: it activates these, as this event.
_ACTIVATED_BY_ADD = {"unsubscribed": "resubscribed", "bounced": "resubscribed",
                     "pending": "activated"}


@dataclass(frozen=True)
class RowProblem:
    """One bad row of an import: its line, the field (or "row", "duplicate") and why."""

    line: int
    field: str
    problem: str


class ImportRejected(UsageError):
    """Nothing was imported: the header is wrong (no rows), or these rows are."""

    def __init__(self, message: str, rows: Iterable[RowProblem] = ()) -> None:
        super().__init__(message)
        self.rows = tuple(rows)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: list[str] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


def add(engine: Engine, email: str, name: str | None, frequency: str,
        categories: Iterable[str], text_size: str, source: str = "cli") -> Subscriber:
    """Add an active subscriber (an operator's act); a returning or pending address is
    activated with the preferences given."""
    with engine.begin() as conn:
        return add_in(conn, email, name, frequency, categories, text_size, source)


def add_in(conn: sa.Connection, email: str, name: str | None, frequency: str,
           categories: Iterable[str], text_size: str, source: str = "cli",
           detail: dict[str, Any] | None = None) -> Subscriber:
    """`add` inside the caller's transaction (the console records its audit entry with it)."""
    try:
        new = build(email, name, frequency, categories, text_size, store.known_categories(conn))
    except InvalidField as exc:
        raise UsageError(str(exc)) from None
    existing = store.get_by_email(conn, new.email)
    now = _now()
    if existing is None:
        sid, _ = store.insert(conn, new, status="active", source=source, now=now,
                              detail=detail or {})
    elif existing.status in _ACTIVATED_BY_ADD:
        sid = existing.id
        store.update_preferences(conn, sid, new, source=source, now=now, detail=detail)
        store.set_status(conn, sid, "active", event=_ACTIVATED_BY_ADD[existing.status],
                         source=source, now=now, detail=detail)
    else:
        raise UsageError(f"{new.email} is already subscribed ({existing.status})")
    return store.get(conn, sid)  # type: ignore[return-value]


def edit_in(conn: sa.Connection, subscriber_id: int, name: str | None, frequency: str,
            categories: Iterable[str], text_size: str, source: str,
            detail: dict[str, Any] | None = None) -> Subscriber:
    """New name, frequency, categories and text size for a subscriber (status unchanged),
    validated like `add` and recorded in the consent history."""
    existing = store.get(conn, subscriber_id)
    if existing is None:
        raise UsageError(f"no subscriber with id {subscriber_id}")
    try:
        new = build(existing.email, name, frequency, categories, text_size,
                    store.known_categories(conn))
    except InvalidField as exc:
        raise UsageError(str(exc)) from None
    store.update_preferences(conn, subscriber_id, new, source=source, now=_now(), detail=detail)
    return store.get(conn, subscriber_id)  # type: ignore[return-value]


def unknown(email: str) -> UsageError:
    """The operator named an address we do not have (exit 2)."""
    return UsageError(f"no subscriber with address {email.strip()!r}")


def remove(engine: Engine, email: str, source: str = "cli") -> Subscriber:
    """Mark unsubscribed; the consent history stays."""
    with engine.begin() as conn:
        existing = store.get_by_email(conn, email.strip())
        if existing is None:
            raise unknown(email)
        return remove_in(conn, existing.id, source)


def remove_in(conn: sa.Connection, subscriber_id: int, source: str,
              detail: dict[str, Any] | None = None) -> Subscriber:
    """`remove` of a known subscriber inside the caller's transaction."""
    existing = store.get(conn, subscriber_id)
    if existing is None:
        raise UsageError(f"no subscriber with id {subscriber_id}")
    if existing.status != "unsubscribed":
        store.set_status(conn, existing.id, "unsubscribed", event="unsubscribed",
                         source=source, now=_now(), detail=detail)
    return store.get(conn, existing.id)  # type: ignore[return-value]


def reset_links(engine: Engine, email: str, source: str = "cli") -> Subscriber:
    """Retire every link mailed to this address so far (UsageError if unknown).

    Preferences, unsubscribe and confirmation links then answer "Đường dẫn không còn hiệu
    lực"; the owner gets fresh ones from /manage (or in the next digest).
    """
    with engine.begin() as conn:
        existing = store.get_by_email(conn, email.strip())
        if existing is None:
            raise unknown(email)
        return reset_links_in(conn, existing.id, source)


def reset_links_in(conn: sa.Connection, subscriber_id: int, source: str) -> Subscriber:
    """`reset_links` of a known subscriber inside the caller's transaction."""
    # No FOR UPDATE first, unlike the pages: only the id is read before the UPDATE, and
    # that UPDATE locks the row itself (a confirm or mail claim runs wholly before or after).
    store.reset_links(conn, subscriber_id, source=source, now=_now())
    return store.get(conn, subscriber_id)  # type: ignore[return-value]


def consent_record(engine: Engine, email: str) -> dict[str, Any]:
    """One subscriber and the whole history of their consent, oldest first (JSON-ready)."""
    with engine.connect() as conn:
        sub = store.get_by_email(conn, email.strip())
        if sub is None:
            raise unknown(email)
        return {"subscriber": as_dict(sub), "events": store.history(conn, sub.id)}


def as_dict(s: Subscriber) -> dict[str, Any]:
    return {
        "email": s.email, "name": s.name, "frequency": s.frequency,
        "categories": list(s.categories), "text_size": s.text_size, "status": s.status,
        "paused": s.paused, "consent_source": s.consent_source,
        "created_at": s.created_at.isoformat(),
        "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
        "unsubscribed_at": s.unsubscribed_at.isoformat() if s.unsubscribed_at else None,
    }


def list_all(engine: Engine) -> list[Subscriber]:
    with engine.connect() as conn:
        return list(store.all_subscribers(conn))


def export_csv(engine: Engine, out: TextIO, *, everyone: bool = False) -> int:
    """The active subscribers in the import columns, so that importing the file back never
    subscribes anyone who did not consent; `everyone` adds the others and a status column."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, "status"] if everyone else CSV_COLUMNS)
    count = 0
    for s in list_all(engine):
        if not everyone and s.status != "active":
            continue
        row = [s.email, s.name, s.frequency, ";".join(s.categories), s.text_size]
        writer.writerow([to_sheet(cell) for cell in ([*row, s.status] if everyone else row)])
        count += 1
    return count


def import_csv(engine: Engine, text: str, source: str = "import") -> ImportReport:
    """All rows or none: every bad row is reported with its line number."""
    with engine.begin() as conn:
        return import_in(conn, text, source)


def import_in(conn: sa.Connection, text: str, source: str = "import",
              detail: dict[str, Any] | None = None) -> ImportReport:
    """`import_csv` inside the caller's transaction (raises UsageError before any write)."""
    rows = _parse_csv(text, store.known_categories(conn))
    report = ImportReport()
    now = _now()
    for line, new in rows:
        _import_one(conn, line, new, now, report, source, detail or {})
    return report


def _import_one(conn: sa.Connection, line: int, new: NewSubscriber | str, now: datetime,
                report: ImportReport, source: str, detail: dict[str, Any]) -> None:
    if isinstance(new, str):  # a row of `export --all` whose status is not active
        report.skipped.append(new)
        return
    existing = store.get_by_email(conn, new.email)
    if existing is None:
        store.insert(conn, new, status="active", source=source, now=now,
                     detail=detail | {"line": line})
        report.created += 1
    elif existing.status in ("unsubscribed", "bounced"):
        report.skipped.append(f"line {line}: {new.email} is {existing.status}; not re-subscribed"
                              " (use `subscribers add` if they asked to come back)")
    else:
        store.update_preferences(conn, existing.id, new, source=source, now=now, detail=detail)
        report.updated += 1


def _parse_csv(text: str, known: list[str]) -> list[tuple[int, NewSubscriber | str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    unknown = [h for h in header if h not in (*CSV_COLUMNS, "status")]
    if "email" not in header or unknown:
        raise ImportRejected(f"CSV header must name columns among {', '.join(CSV_COLUMNS)} "
                         f"(email required); got: {', '.join(header) or 'nothing'}")
    reader.fieldnames = header
    rows: list[tuple[int, NewSubscriber | str]] = []
    errors: list[RowProblem] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        try:
            new = _row(record, known)
            status = _status(record)
        except InvalidField as exc:
            errors.append(RowProblem(line, exc.field, str(exc)))
            continue
        if new.email.casefold() in seen:
            errors.append(RowProblem(line, "duplicate", f"{new.email} repeats line "
                                     f"{seen[new.email.casefold()]}"))
            continue
        seen[new.email.casefold()] = line
        rows.append((line, new if status == "active" else
                     f"line {line}: {new.email} is {status} in the file; not imported"))
    if errors:
        raise ImportRejected("nothing imported; fix these rows:\n  " + "\n  ".join(
            f"line {e.line}: {e.problem}" for e in errors), errors)
    return rows


def _status(record: dict[str, Any]) -> str:
    """A `status` column (from `export --all`): only active rows become subscribers."""
    return check_choice("status", from_sheet(record.get("status") or "active"), STATUSES)


def _row(record: dict[str, Any], known: list[str]) -> NewSubscriber:
    if None in record:
        raise InvalidField("row", "has more fields than the header")
    def get(key: str, default: str = "") -> str:
        return from_sheet(str(record.get(key) or default)).strip()

    categories = [c for c in get("categories").split(";") if c.strip()]
    return build(get("email"), get("name"), get("frequency", "daily") or "daily", categories,
                 get("text_size", "standard") or "standard", known)
