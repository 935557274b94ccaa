"""Proof of sending for people: a run's deliveries, a bulletin's, and the answer to "did agency
X get bulletin Y, and when", also as CSV for a report."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.models.bulletin import Bulletin
from syndicator.models.run import Run
from syndicator.models.subscriber import Subscriber
from syndicator.state import corrections, ingested, proof
from syndicator.state import runs as run_store
from syndicator.state import subscribers as subscriber_store
from syndicator.state.proof import Carrier, Counts

CSV_COLUMNS = ("run_id", "frequency", "period_start", "period_end", "digest_id", "email", "name",
               "status", "attempts", "smtp_code", "smtp_reply", "message_id", "sent_at",
               "bounce")


@dataclass(frozen=True)
class RunRecord:
    run: Run
    counts: Counts
    deliveries: list[dict[str, Any]]
    next_after: int | None  # the key of the next page of deliveries


@dataclass(frozen=True)
class BulletinRecord:
    bulletin: Bulletin
    carriers: list[Carrier]
    counts: Counts
    deliveries: list[dict[str, Any]]
    next_after: int | None
    history: list[corrections.Told]  # its corrections and withdrawal, and who was told


@dataclass(frozen=True)
class Answer:
    """What one run that carried the bulletin did for the agency.

    verdict: sent | waiting | failed | skipped (a delivery of it exists), not_in_digest (the
    agency got that run's digest without this bulletin: other categories, or subscribed after
    it came in), no_delivery (no mail of that run to the agency: another frequency, paused,
    not subscribed then), not_carried (no run has carried the bulletin yet).
    """

    verdict: str
    run: Run | None = None
    delivery: dict[str, Any] | None = None


@dataclass(frozen=True)
class Question:
    subscriber: Subscriber | None
    bulletin: Bulletin | None
    answers: list[Answer]


def run_record(engine: Engine, run_id: int, size: int, after: int | None) -> RunRecord | None:
    with engine.connect() as conn:
        run = run_store.run_by_id(conn, run_id)
        if run is None:
            return None
        counts = proof.counts(conn, [run.id])[run.id]
        rows = proof.run_deliveries(conn, run.id, size + 1, after)
    return RunRecord(run, counts, rows[:size], rows[size - 1]["id"] if len(rows) > size else None)


def run_rows(engine: Engine, run_id: int) -> tuple[Run | None, list[dict[str, Any]]]:
    """Every delivery of a run (for the CSV and the printable page)."""
    with engine.connect() as conn:
        run = run_store.run_by_id(conn, run_id)
        return run, proof.run_deliveries(conn, run_id) if run else []


def bulletin_record(engine: Engine, bulletin_id: int, size: int,
                    after: int | None) -> BulletinRecord | None:
    with engine.connect() as conn:
        bulletin = ingested.get(conn, bulletin_id)
        if bulletin is None:
            return None
        carriers = proof.carriers(conn, bulletin)
        content_ids = [c for carrier in carriers for c in carrier.content_ids]
        rows = proof.content_deliveries(conn, content_ids, limit=size + 1, after=after)
        counts = _tally(proof.content_deliveries(conn, content_ids))
        history = corrections.history(conn, bulletin_id)
    return BulletinRecord(bulletin, carriers, counts, rows[:size],
                          rows[size - 1]["id"] if len(rows) > size else None, history)


def bulletin_rows(engine: Engine, bulletin_id: int) -> tuple[Bulletin | None,
                                                             list[dict[str, Any]]]:
    with engine.connect() as conn:
        bulletin = ingested.get(conn, bulletin_id)
        if bulletin is None:
            return None, []
        content_ids = [c for carrier in proof.carriers(conn, bulletin) for c in carrier.content_ids]
        return bulletin, _with_runs(conn, proof.content_deliveries(conn, content_ids))


def ask(engine: Engine, bulletin_id: int, email: str) -> Question:
    """Did this agency get this bulletin, and when: one answer per run that carried it."""
    with engine.connect() as conn:
        bulletin = ingested.get(conn, bulletin_id)
        sub = subscriber_store.get_by_email(conn, email.strip()) if email.strip() else None
        if bulletin is None or sub is None:
            return Question(sub, bulletin, [])
        carriers = proof.carriers(conn, bulletin)
        mine = proof.run_delivery_of(conn, [c.run.id for c in carriers], sub.id)
    by_run = {d["run_id"]: d for d in mine}
    answers = [_answer(c, by_run.get(c.run.id)) for c in carriers]
    return Question(sub, bulletin, answers or [Answer("not_carried")])


def _answer(carrier: Carrier, delivery: dict[str, Any] | None) -> Answer:
    if delivery is None:
        return Answer("no_delivery", carrier.run)
    if delivery["content_id"] not in carrier.content_ids:
        return Answer("not_in_digest", carrier.run, delivery)
    status = delivery["status"]
    verdict = "waiting" if status in ("pending", "sending") else status
    return Answer(verdict, carrier.run, delivery)


def bulletins(engine: Engine, size: int, *, before: int | None = None, text: str = "",
              state: str = "") -> tuple[list[Bulletin], int | None]:
    """A page of what was ingested, newest first, and the key of the next page."""
    with engine.connect() as conn:
        rows = ingested.page(conn, size + 1, before=before, text=text, state=state)
    return rows[:size], rows[size - 1].id if len(rows) > size else None


def write_csv(out: TextIO, rows: Iterable[dict[str, Any]], tz: ZoneInfo,
              run: Run | None = None) -> int:
    """The proof as CSV, times in the configured zone with their offset (RFC 3339)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for r in rows:
        frequency = r.get("frequency") or (run.frequency if run else "")
        start = r.get("period_start") or (run.period_start if run else None)
        end = r.get("period_end") or (run.period_end if run else None)
        writer.writerow([r["run_id"], frequency, _local(start, tz), _local(end, tz),
                         r.get("digest_id") or "", r["email"], r["name"], r["status"],
                         r["attempts"], r["last_code"] or "", r["last_reply"] or "",
                         r["message_id"] or "", _local(r["sent_at"], tz), r.get("bounce") or ""])
        count += 1
    return count


def _local(when: datetime | None, tz: ZoneInfo) -> str:
    return when.astimezone(tz).isoformat(timespec="seconds") if when else ""


def _tally(rows: Iterable[dict[str, Any]]) -> Counts:
    counts = Counts()
    for r in rows:
        proof.tally(counts, r["status"], r["attempts"] > 0, (r["last_code"] or 0) >= 500, 1)
    return counts


def _with_runs(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each delivery with its run's frequency and period (for a bulletin's CSV)."""
    found: dict[int, Run | None] = {}
    for r in rows:
        if r["run_id"] not in found:
            found[r["run_id"]] = run_store.run_by_id(conn, r["run_id"])
        run = found[r["run_id"]]
        if run is not None:
            r |= {"frequency": run.frequency, "period_start": run.period_start,
                  "period_end": run.period_end}
    return rows


def runs(engine: Engine, size: int, *, frequency: str = "",
         before: int | None = None) -> tuple[list[tuple[Run, Counts]], int | None]:
    """A page of runs, newest first, with their outcomes, and the key of the next page."""
    with engine.connect() as conn:
        rows = proof.runs(conn, size + 1, frequency=frequency or None, before=before)
        counts = proof.counts(conn, [r.id for r in rows[:size]])
    return [(r, counts[r.id]) for r in rows[:size]], rows[size - 1].id if len(rows) > size \
        else None
