"""Builds every feed file from the state database: the entry point of `feeds build` and the daemon."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
import structlog
import yaml

from syndicator.bulletins import Bulletin
from syndicator.errors import SyndicatorError
from syndicator.feeds import names, reads, websub, writer
from syndicator.feeds.jsonfeed import json_bytes
from syndicator.feeds.model import FeedDocument, host_of
from syndicator.feeds.opml import opml_bytes
from syndicator.feeds.paging import FeedContext, Scope, documents
from syndicator.feeds.xmlfeeds import atom_bytes, rss_bytes
from syndicator.settings import Settings
from syndicator.text import one_line

log = structlog.get_logger(__name__)
Renderer = Callable[[FeedDocument, str], bytes]
RENDERERS: dict[str, Renderer] = {"atom": atom_bytes, "rss": rss_bytes, "json": json_bytes}


@dataclass
class FeedBuildReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def build_all(settings: Settings, engine: sa.Engine, now: datetime | None = None) -> FeedBuildReport:
    """Writes every feed, archive page and index.opml whose bytes changed; removes orphans."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        members = reads.all_in_arrival_order(conn)
    out = Path(settings.feeds.output_dir).resolve()
    report = FeedBuildReport()
    try:
        _write_all(out, _jobs(settings, members, now), report)
    except OSError as exc:
        raise SyndicatorError(f"cannot write the feeds in {out} (feeds.output_dir): "
                              f"{exc.strerror or exc}") from None
    log.info("feeds.built", written=len(report.written), unchanged=len(report.unchanged),
             removed=len(report.removed))
    _announce(settings, report)
    return report


def _write_all(out: Path, jobs: list[_Job], report: FeedBuildReport) -> None:
    out.mkdir(parents=True, exist_ok=True)
    writer.sweep_temporary(out)
    for job in jobs:
        changed = _write(out / job.name, job)
        (report.written if changed else report.unchanged).append(job.name)
    wanted = {job.name for job in jobs}
    for orphan in sorted(p.name for p in out.iterdir() if names.is_feed_file(p.name)):
        if orphan not in wanted:
            writer.remove(out / orphan)
            _SEEN.pop(out / orphan, None)
            report.removed.append(orphan)


def render_all(settings: Settings, members: Sequence[Bulletin], now: datetime) -> dict[str, bytes]:
    """File name -> bytes for everything the feed directory should hold (pure)."""
    return {job.name: job.render() for job in _jobs(settings, members, now)}


@dataclass(frozen=True)
class _Job:
    name: str
    key: int  # within one process, equal keys mean equal bytes
    render: Callable[[], bytes]


# path -> (job key, file identity) after the last write or check: a long-running daemon
# skips rendering documents that did not change (most archive pages) when the file on disk
# is still the one it wrote.
_SEEN: dict[Path, tuple[int, tuple[int, int, int] | None]] = {}


def _write(path: Path, job: _Job) -> bool:
    if _SEEN.get(path) == (job.key, _identity(path)) and _SEEN[path][1] is not None:
        return False
    changed = writer.write_if_changed(path, job.render())
    _SEEN[path] = (job.key, _identity(path))
    return changed


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _jobs(settings: Settings, members: Sequence[Bulletin], now: datetime) -> list[_Job]:
    ctx = _context(settings, now)
    feeds_url = f"{settings.base_url}/feeds"
    scopes = _scopes(settings, members)
    jobs = [_Job(f"{doc.stem}.{ext}", hash((doc, ext, feeds_url)), partial(render, doc, feeds_url))
            for scope, scope_members in scopes
            for doc in documents(scope, scope_members, ctx)
            for ext, render in RENDERERS.items()]
    title = _messages()["opml_title"].format(site=_site(settings))
    opml = opml_bytes(title, [s for s, _ in scopes], feeds_url, ctx.home_url)
    return [*jobs, _Job(names.OPML, hash(opml), lambda: opml)]


def _context(settings: Settings, now: datetime) -> FeedContext:
    return FeedContext(
        host=host_of(settings.base_url), home_url=str(settings.site.url),
        author=_site(settings), language=settings.site.language,
        page_size=settings.feeds.max_entries,
        hub=str(settings.feeds.websub_hub) if settings.feeds.websub_hub else None,
        tombstones_since=now - timedelta(days=settings.feeds.tombstone_days))


def _scopes(settings: Settings, members: Sequence[Bulletin]) -> list[tuple[Scope, list[Bulletin]]]:
    """`all`, then one feed per category slug ever seen (so a withdrawal reaches its feed too)."""
    by_slug: dict[str, list[Bulletin]] = {}
    for b in members:
        if b.category_slug and b.category:
            by_slug.setdefault(b.category_slug, []).append(b)
    text = _messages()
    site = _site(settings)
    base = f"{settings.base_url}/feeds"
    out = [(Scope(names.ALL, f"{base}/{names.ALL}.atom", text["title_all"].format(site=site),
                  text["subtitle_all"].format(site=site)), list(members))]
    for slug, group in sorted(by_slug.items()):
        name = _display_name(group)
        stem = names.scope_stem(slug)
        out.append((Scope(stem, f"{base}/{stem}.atom",
                          text["title_category"].format(site=site, category=name),
                          text["subtitle_category"].format(site=site, category=name)), group))
    return out


def _site(settings: Settings) -> str:
    return one_line(settings.site.title) or host_of(settings.base_url)


def _display_name(group: Sequence[Bulletin]) -> str:
    """Names that fold to one slug may differ in case or accents: the newest public one wins."""
    public = [b for b in group if b.state == "public"] or list(group)
    return one_line(public[-1].category or "") or public[-1].category_slug or ""


def _announce(settings: Settings, report: FeedBuildReport) -> None:
    hub = settings.feeds.websub_hub
    topics = [f"{settings.base_url}/feeds/{n}" for n in report.written
              if ".archive-" not in n and n != names.OPML]
    if hub and topics:
        websub.ping(str(hub), topics)


@cache
def _messages() -> dict[str, str]:
    text = resources.files("syndicator.feeds").joinpath("messages.yaml").read_text("utf-8")
    return dict(yaml.safe_load(text))
