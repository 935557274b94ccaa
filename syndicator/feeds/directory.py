"""Keeps the feed directory in step with the state database (`feeds build` and the daemon)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import structlog

from syndicator.config.settings import Settings
from syndicator.errors import SyndicatorError
from syndicator.feeds import build, names, precompressed, reads, websub, writer

log = structlog.get_logger(__name__)


@dataclass
class FeedBuildReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def build_all(settings: Settings, engine: sa.Engine,
              now: datetime | None = None) -> FeedBuildReport:
    """Writes every feed, archive page and index.opml whose bytes changed; removes orphans."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        members = reads.all_in_arrival_order(conn)
    out = Path(settings.feeds.output_dir).resolve()
    report = FeedBuildReport()
    try:
        _write_all(out, build.jobs(settings, members, now), report)
    except OSError as exc:
        raise SyndicatorError(f"cannot write the feeds in {out} (feeds.output_dir): "
                              f"{exc.strerror or exc}") from None
    log.info("feeds.built", written=len(report.written), unchanged=len(report.unchanged),
             removed=len(report.removed))
    _announce(settings, report)
    return report


def _write_all(out: Path, jobs: list[build.Job], report: FeedBuildReport) -> None:
    out.mkdir(parents=True, exist_ok=True)
    writer.sweep_temporary(out)
    for job in jobs:
        changed = _write(out / job.name, job)
        (report.written if changed else report.unchanged).append(job.name)
    wanted = {job.name for job in jobs}
    for orphan in sorted(_ours(out) - wanted):
        precompressed.remove(out / orphan)
        _SEEN.pop(out / orphan, None)
        report.removed.append(orphan)


def _ours(out: Path) -> set[str]:
    """Names of our files in the directory, a compressed copy counted by its file's name."""
    found = set()
    for p in out.iterdir():
        name = precompressed.base_name(p.name) or p.name
        if names.is_feed_file(name):
            found.add(name)
    return found


# path -> (job key, file identity) after the last write or check: a long-running daemon
# skips rendering documents that did not change (most archive pages) when the file on disk
# is still the one it wrote.
_SEEN: dict[Path, tuple[int, tuple[int, int, int] | None]] = {}


def _write(path: Path, job: build.Job) -> bool:
    if _SEEN.get(path) == (job.key, _identity(path)) and _SEEN[path][1] is not None:
        return False
    changed = precompressed.write(path, job.render())
    _SEEN[path] = (job.key, _identity(path))
    return changed


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _announce(settings: Settings, report: FeedBuildReport) -> None:
    hub = settings.feeds.hub
    topics = [f"{settings.feeds_url}/{n}" for n in report.written
              if names.is_subscription_document(n)]
    if hub and topics:
        websub.ping(hub, topics)
