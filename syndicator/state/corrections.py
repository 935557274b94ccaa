"""Who received a bulletin, and which of its versions each subscriber was told about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from syndicator.models.correction import Correction
from syndicator.state import bulletins as bulletin_store
from syndicator.state import versions
from syndicator.state.schema import bulletin_versions as ver
from syndicator.state.schema import correction_notices as n
from syndicator.state.schema import deliveries, digest_contents, subscribers

# A digest whose server accepted it, or that is being sent now (it may have been composed
# before the correction): pending ones are composed later, from the corrected text.
_RECEIVED = ("sent", "sending")


@dataclass(frozen=True)
class Receipt:
    subscriber_id: int
    last_mailed_at: datetime  # when the newest such delivery was made (its version then)


def recipients(conn: sa.Connection, bulletin_id: int, seen_at: datetime,
               before: datetime) -> list[Receipt]:
    """Active, unpaused subscribers whose digest made before `before` carried the bulletin
    (only digests made since it was first seen, `seen_at`, can hold it)."""
    contents = conn.execute(sa.select(digest_contents.c.id, digest_contents.c.bulletin_ids)
                            .where(digest_contents.c.created_at >= seen_at))
    holding = [c.id for c in contents if bulletin_id in (c.bulletin_ids or ())]
    if not holding:
        return []
    query = (sa.select(deliveries.c.subscriber_id, sa.func.max(deliveries.c.created_at))
             .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
             .where(deliveries.c.content_id.in_(holding), deliveries.c.kind == "digest",
                    deliveries.c.status.in_(_RECEIVED), deliveries.c.created_at < before,
                    subscribers.c.status == "active", subscribers.c.paused == sa.false())
             .group_by(deliveries.c.subscriber_id).order_by(deliveries.c.subscriber_id))
    return [Receipt(r[0], r[1]) for r in conn.execute(query)]


def told(conn: sa.Connection, bulletin_id: int) -> dict[int, int]:
    """subscriber id -> the newest version of the bulletin they were told about."""
    rows = conn.execute(sa.select(n.c.subscriber_id, sa.func.max(n.c.version))
                        .where(n.c.bulletin_id == bulletin_id).group_by(n.c.subscriber_id))
    return {r[0]: int(r[1]) for r in rows}


def record_many(conn: sa.Connection, bulletin_id: int, version: int, had: Mapping[int, int],
                how: str, now: datetime, mails: Mapping[int, int]) -> None:
    """That each subscriber in `had` (-> the version they had) is told of `version`, by the
    mail in `mails` (none: held for their next digest)."""
    rows = [{"subscriber_id": s, "bulletin_id": bulletin_id, "version": version,
             "from_version": h, "how": how, "delivery_id": mails.get(s), "created_at": now}
            for s, h in sorted(had.items())]
    for start in range(0, len(rows), 500):
        conn.execute(n.insert(), rows[start:start + 500])


@dataclass(frozen=True)
class Held:
    """A correction kept for a subscriber's next digest."""

    notice_id: int
    bulletin_id: int
    version: int
    from_version: int


def held_for(conn: sa.Connection, subscriber_id: int) -> list[Held]:
    """Corrections waiting for this subscriber's next digest, oldest first."""
    rows = conn.execute(sa.select(n.c.id, n.c.bulletin_id, n.c.version, n.c.from_version)
                        .where(n.c.subscriber_id == subscriber_id, n.c.how == "next_digest",
                               n.c.delivery_id.is_(None)).order_by(n.c.id))
    return [Held(*r) for r in rows]


def attach(conn: sa.Connection, notice_ids: Sequence[int], delivery_id: int) -> None:
    """The digest delivery that carries these held corrections (kept on a retry)."""
    if notice_ids:
        conn.execute(n.update().where(n.c.id.in_(list(notice_ids)), n.c.delivery_id.is_(None))
                     .values(delivery_id=delivery_id))


def release(conn: sa.Connection, delivery_id: int) -> int:
    """A digest delivery that finally failed or was skipped gives back the corrections it was
    to carry: the subscriber's next digest carries them instead. Returns how many."""
    done = conn.execute(n.update().where(n.c.delivery_id == delivery_id,
                                         n.c.how == "next_digest").values(delivery_id=None))
    return int(done.rowcount)


def carried_by(conn: sa.Connection, delivery_id: int) -> list[Held]:
    """The corrections a digest delivery carries (the same on every attempt)."""
    rows = conn.execute(sa.select(n.c.id, n.c.bulletin_id, n.c.version, n.c.from_version)
                        .where(n.c.delivery_id == delivery_id, n.c.how == "next_digest")
                        .order_by(n.c.id))
    return [Held(*r) for r in rows]


def correction(conn: sa.Connection, bulletin_id: int, version: int,
               from_version: int) -> Correction | None:
    """What a notice of `version` says to one who had `from_version`; None if either is gone."""
    found = bulletin_store.get_many(conn, [bulletin_id])
    new = versions.get(conn, bulletin_id, version)
    old = versions.get(conn, bulletin_id, from_version) or new
    if not found or new is None or old is None:
        return None
    b = found[0]
    return Correction(bulletin_id=bulletin_id, version=version,
                      withdrawn=new.state == "withdrawn", old_title=old.title, title=new.title,
                      old_lead=old.lead, lead=new.lead, url=b.url, category=b.category,
                      published_at=b.published_at, changed_at=new.created_at)


def since_first(conn: sa.Connection, bulletin_ids: Sequence[int]) -> tuple[Correction, ...]:
    """Of these bulletins, those corrected or withdrawn since first mailed: from version 1
    to the newest (a web copy's banner), most recent first."""
    found = []
    for bulletin_id, newest in versions.latest_of(conn, bulletin_ids).items():
        c = correction(conn, bulletin_id, newest.version, 1)
        if c is not None:
            found.append(c)
    return tuple(sorted(found, key=lambda c: c.changed_at, reverse=True))


def holding(conn: sa.Connection, subscriber_ids: Sequence[int]) -> set[int]:
    """Of these subscribers, those with corrections waiting for their next digest."""
    if not subscriber_ids:
        return set()
    return set(conn.scalars(sa.select(n.c.subscriber_id).distinct().where(
        n.c.subscriber_id.in_(sorted(set(subscriber_ids))), n.c.how == "next_digest",
        n.c.delivery_id.is_(None))))


def carrying(conn: sa.Connection, delivery_ids: Sequence[int]) -> set[int]:
    """Of these deliveries, those that carry held corrections (a retry shows them again)."""
    if not delivery_ids:
        return set()
    return set(conn.scalars(sa.select(n.c.delivery_id).distinct().where(
        n.c.delivery_id.in_(sorted(set(delivery_ids))))))


@dataclass(frozen=True)
class Told:
    """How the readers of one version of a bulletin were told of it (for the console)."""

    version: int
    state: str  # public | withdrawn
    title: str
    created_at: datetime
    planned_at: datetime | None  # None: notices still to be planned
    immediate: int  # subscribers told by a mail of its own
    immediate_sent: int  # of those, mails the server accepted
    held: int  # kept for the subscriber's next digest, not yet in one
    in_digest: int  # carried by a digest delivery
    in_digest_sent: int  # of those, digests the server accepted


def history(conn: sa.Connection, bulletin_id: int) -> list[Told]:
    """Every recorded version of a bulletin after the first, oldest first, with who was told."""
    rows = conn.execute(sa.select(ver.c.version, ver.c.state, ver.c.title, ver.c.created_at,
                                  ver.c.planned_at)
                        .where(ver.c.bulletin_id == bulletin_id, ver.c.version > 1)
                        .order_by(ver.c.version)).all()
    if not rows:
        return []
    sent = sa.case((deliveries.c.status == "sent", 1), else_=0)
    tally = conn.execute(
        sa.select(n.c.version, n.c.how, n.c.delivery_id.is_(None).label("unsent"),
                  sa.func.count(), sa.func.coalesce(sa.func.sum(sent), 0))
        .select_from(n.outerjoin(deliveries, deliveries.c.id == n.c.delivery_id))
        .where(n.c.bulletin_id == bulletin_id)
        .group_by(n.c.version, n.c.how, n.c.delivery_id.is_(None)))
    counts: dict[int, dict[str, int]] = {}
    for version, how, unsent, count, accepted in tally:
        c = counts.setdefault(int(version), {})
        if how == "immediate":
            c["immediate"] = c.get("immediate", 0) + int(count)
            c["immediate_sent"] = c.get("immediate_sent", 0) + int(accepted)
        elif unsent:
            c["held"] = c.get("held", 0) + int(count)
        else:
            c["in_digest"] = c.get("in_digest", 0) + int(count)
            c["in_digest_sent"] = c.get("in_digest_sent", 0) + int(accepted)
    out = []
    for r in rows:
        c = counts.get(int(r.version), {})
        out.append(Told(int(r.version), r.state, r.title, r.created_at, r.planned_at,
                        c.get("immediate", 0), c.get("immediate_sent", 0), c.get("held", 0),
                        c.get("in_digest", 0), c.get("in_digest_sent", 0)))
    return out
