"""Time that went backwards: finding our own stamps in the future, and bringing them to now.

Every stamp below was written by some process's clock. When one ran ahead (a bad NTP step, a
VM restored, an operator's typo) and was set back, those stamps sit in the future and would
silence mail until the wrong date: an immediate chain ending in a month, daily runs of days
that have not come, retries and leases due next month. `repair` maps them onto the moment of
repair `at`, so that what was sent stays sent and what was not is sent now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from syndicator.state.schema import (
    bulletins,
    deliveries,
    digest_contents,
    digest_runs,
    state_values,
    subscribers,
)

TICK = timedelta(microseconds=1)
# Where runs of periods that had not come are set aside: long before any real period, one
# instant per run (runs are unique on their start and on their end), so that no period's
# start ("after the previous run's end") or covering run can ever be one of them.
_ASIDE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class Repair:
    """What a repair changed, for the one loud log line."""

    runs_cut: int = 0  # periods that had not ended: end moved to now, the rest comes later
    runs_set_aside: int = 0  # periods wholly in the future: kept as proof, out of the way
    bulletins: int = 0
    subscribers: int = 0
    deliveries: int = 0
    values: list[str] = field(default_factory=list)


def newest_stamp(conn: sa.Connection) -> datetime | None:
    """The latest moment our own writes recorded (each a cheap index or small-table read)."""
    newest_run = sa.select(digest_runs.c.created_at).order_by(digest_runs.c.id.desc()).limit(1)
    newest_bulletin = (sa.select(bulletins.c.first_seen_at)
                       .order_by(bulletins.c.id.desc()).limit(1))
    stamps = [conn.scalar(sa.select(sa.func.max(state_values.c.updated_at))),
              conn.scalar(newest_run), conn.scalar(newest_bulletin)]
    found = [s for s in stamps if s is not None]
    return max(found) if found else None


def repair(conn: sa.Connection, at: datetime, lease_seconds: float) -> Repair:
    """Bring every stamp later than `at` back to `at` (one transaction, the caller's)."""
    done = Repair()
    announced = _announced_immediately(conn, at)
    done.runs_cut, done.runs_set_aside = _runs(conn, at)
    done.bulletins = _bulletins(conn, at, announced)
    # Who subscribed while the clock was ahead gets what the rest of each period holds.
    done.subscribers = _later(conn, subscribers, at - TICK, "created_at", "confirmed_at")
    done.deliveries = _deliveries(conn, at, lease_seconds)
    return done


def future_values(conn: sa.Connection, at: datetime) -> list[tuple[str, str, datetime]]:
    """(name, value, updated_at) of the named values written after `at`."""
    rows = conn.execute(sa.select(state_values.c.name, state_values.c.value,
                                  state_values.c.updated_at)
                        .where(state_values.c.updated_at > at))
    return [(r.name, r.value, r.updated_at) for r in rows]


def put_value(conn: sa.Connection, name: str, value: str, at: datetime) -> None:
    """Rewrite a named value, stamped `at` (not the clock: that is what went wrong)."""
    conn.execute(state_values.update().where(state_values.c.name == name)
                 .values(value=value, updated_at=at))


def _announced_immediately(conn: sa.Connection, at: datetime) -> set[int]:
    """Bulletins that immediate runs made while the clock was ahead already announced."""
    rows = conn.execute(sa.select(digest_contents.c.bulletin_ids)
                        .join(digest_runs, digest_runs.c.id == digest_contents.c.run_id)
                        .where(digest_runs.c.frequency == "immediate",
                               digest_runs.c.created_at > at))
    return {int(i) for r in rows for i in r.bulletin_ids}


def _runs(conn: sa.Connection, at: datetime) -> tuple[int, int]:
    """Runs made while the clock was ahead, for periods that have not ended by `at`.

    A period under way is cut short: the immediate chain at `at`, so the next immediate
    period starts there; a daily or weekly run a tick earlier, so the run of the rest of its
    period (planning.runs makes it when the period really ends) also holds what immediate
    runs announced while the clock was ahead (first seen at `at` - 1 tick, see _bulletins).
    A period wholly in the future is set aside as an empty span at the start of 2000 (see
    _ASIDE): its rows stay as the proof of what was sent, and the real period gets its own
    run when its time comes.
    """
    rows = conn.execute(sa.select(digest_runs.c.id, digest_runs.c.frequency,
                                  digest_runs.c.period_start)
                        .where(digest_runs.c.created_at > at, digest_runs.c.period_end > at)
                        .order_by(digest_runs.c.id)).all()
    cut = aside = 0
    for r in rows:
        end = at if r.frequency == "immediate" else at - TICK
        if r.period_start < end:
            values = {"period_end": end}
            cut += 1
        else:
            aside += 1
            slot = _ASIDE + TICK * r.id
            values = {"period_start": slot, "period_end": slot}
        conn.execute(digest_runs.update().where(digest_runs.c.id == r.id).values(**values))
    conn.execute(digest_runs.update().where(digest_runs.c.created_at > at)
                 .values(created_at=at))
    conn.execute(digest_runs.update().where(digest_runs.c.completed_at > at)
                 .values(completed_at=at))
    return cut, aside


def _bulletins(conn: sa.Connection, at: datetime, announced: Iterable[int]) -> int:
    """First seen in the future: a tick before `at` if an immediate run announced them
    (inside the cut immediate period), else at `at` (in the next immediate period); both in
    the rest of each daily and weekly period."""
    later = list(conn.scalars(sa.select(bulletins.c.id).where(bulletins.c.first_seen_at > at)))
    told = set(announced) & set(later)
    for ids, moment in ((sorted(told), at - TICK), (sorted(set(later) - told), at)):
        for start in range(0, len(ids), 500):
            conn.execute(bulletins.update().where(bulletins.c.id.in_(ids[start:start + 500]))
                         .values(first_seen_at=moment))
    _later(conn, bulletins, at, "changed_at", "withdrawn_at")
    return len(later)


def _deliveries(conn: sa.Connection, at: datetime, lease_seconds: float) -> int:
    """Retries due in the future are due now; leases from the future run `lease_seconds`
    from now, so a send in flight is not taken over."""
    lease_end = at + timedelta(seconds=lease_seconds)
    due = conn.execute(deliveries.update().where(deliveries.c.next_attempt_at > at)
                       .values(next_attempt_at=at)).rowcount
    conn.execute(deliveries.update().where(deliveries.c.lease_until > lease_end)
                 .values(lease_until=lease_end))
    return due  # created_at and sent_at stay as recorded: the proof says what the clock said


def _later(conn: sa.Connection, table: sa.Table, at: datetime, *columns: str) -> int:
    """Each of these columns later than `at` becomes `at`; the rows touched (most of one)."""
    touched = 0
    for name in columns:
        col = table.c[name]
        touched = max(touched, conn.execute(table.update().where(col > at)
                                            .values({name: at})).rowcount)
    return touched
