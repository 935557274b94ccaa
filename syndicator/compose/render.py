"""Digest and transactional mail rendered to HTML (CSS inlined) and plain text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import css_inline
from jinja2 import Environment

from syndicator.compose import correction, dates, files, variants
from syndicator.compose.templates import environment
from syndicator.config.settings import Settings
from syndicator.models.bulletin import Bulletin
from syndicator.models.message import Digest
from syndicator.models.text import html_to_text, one_line

# Bytes of the HTML part as transmitted (after its transfer encoding): Gmail clips near
# 102 KB and hides the footer with it (the contract's limit).
HTML_LIMIT = 100_000
PERSONAL_RESERVE = 2_000  # room for a long name and the links, encoded (composer checks)
LEAD_CHARS = 480
TITLE_CHARS = 400
# A one-bulletin subject is 'Tin mới ngày dd/mm/yyyy: ' (25 chars) and the title: <= 160.
SUBJECT_TITLE_CHARS = 130
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class Item:
    """A bulletin as a digest shows it (text, not HTML; escaping is the template's job)."""

    id: int
    title: str
    url: str
    category: str | None
    author: str | None
    published_at: Any
    lead: str
    document: files.DocumentItem | None = None
    files: tuple[files.FileItem, ...] = ()


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    full: int  # bulletins shown in full; the rest are headlines
    shown: int  # bulletins named at all; the rest are only counted


def item(b: Bulletin) -> Item:
    lead = html_to_text(b.summary or b.body_html or "")
    names = [one_line(n) for n, _slug in b.all_categories]
    return Item(id=b.id, title=_clip(one_line(b.title), TITLE_CHARS), url=b.url,
                category=", ".join(n for n in names if n) or None,
                author=one_line(b.author) if b.author else None,
                published_at=b.published_at, lead=_clip(one_line(lead), LEAD_CHARS),
                document=files.document(b), files=tuple(files.files(b)))


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word, with an ellipsis."""
    return _clip(text, limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,.;:") + "…"


def inline(html: str) -> str:
    return _INLINER.inline(html)


class Renderer:
    """Renders the email templates with the variant's tokens; no I/O besides templates."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._env: Environment = environment(settings.timezone)
        self._base = settings.base_url

    def messages(self) -> Any:
        """Short texts shared by code paths (defaults, sample names) from messages.j2."""
        return self._env.get_template("messages.j2").module

    def digest(self, digest: Digest, *, large: bool, personal: Mapping[str, str] | None,
               fits: Callable[[str], bool] | None) -> Rendered:
        """`fits(html)`: whether that HTML is within the size guard (None: no guard)."""
        items = [item(b) for b in digest.bulletins]
        ctx = self._digest_context(digest, large, personal)
        subject = self._subject(ctx)

        def html_for(full: int, shown: int) -> str:
            return self.html("digest.html.j2", ctx | _split(items, full, shown) | {
                "subject": subject})

        full, shown = _fit(html_for, len(items), fits)
        html = html_for(full, shown)
        text = self._env.get_template("digest.txt.j2").render(
            ctx | _split(items, full, shown) | {"subject": subject})
        return Rendered(subject=subject, html=html, text=text, full=full, shown=shown)

    def subject(self, digest: Digest) -> str:
        return self._subject(self._digest_context(digest, False, None))

    def _subject(self, ctx: Mapping[str, Any]) -> str:
        return one_line(self._env.get_template("subject.txt.j2").render(ctx))

    def transactional(self, kind: str, *, large: bool, personal: Mapping[str, str],
                      extra: Mapping[str, Any]) -> Rendered:
        """The confirmation or a notice: same layout, no size guard needed."""
        ctx = self._common(large, personal) | dict(extra) | {"kind": kind}
        subject = self._subject(ctx)
        ctx["subject"] = subject
        html = self.html(f"{kind}.html.j2", ctx)
        text = self._env.get_template(f"{kind}.txt.j2").render(ctx)
        return Rendered(subject=subject, html=html, text=text, full=0, shown=0)

    def html(self, name: str, ctx: Mapping[str, Any]) -> str:
        return inline(self._env.get_template(name).render(ctx))

    def _common(self, large: bool, personal: Mapping[str, str] | None) -> dict[str, Any]:
        s = self._settings
        return {"v": variants.tokens(large), "large": large, "p": personal,
                "site_title": one_line(s.site.title), "site_url": str(s.site.url),
                "contact": s.site.contact,
                "subscribe_url": f"{self._base}/subscribe",
                "no_reply": s.mail.reply_to is None}

    def _digest_context(self, digest: Digest, large: bool,
                        personal: Mapping[str, str] | None) -> dict[str, Any]:
        tz = self._settings.tz
        web = f"{self._base}/digests/{digest.digest_id}"
        return self._common(large, personal) | {
            "kind": "digest", "frequency": digest.frequency, "count": len(digest.bulletins),
            "period": dates.label(digest.frequency, digest.period_start,
                                  digest.period_end, tz, _earlier(digest)),
            "web_url": web + ("?size=large" if large else ""),
            "web_url_other": web + ("" if large else "?size=large"),
            "corrections": [correction.item(c) for c in digest.corrections],
            "first_title": _clip(one_line(digest.bulletins[0].title), SUBJECT_TITLE_CHARS)
            if digest.bulletins else "",
        }


def _earlier(digest: Digest) -> int:
    """Bulletins published before the window (a first import, a late or backdated one)."""
    if digest.frequency == "immediate":
        return 0
    return sum(1 for b in digest.bulletins if b.published_at < digest.period_start)


def _split(items: list[Item], full: int, shown: int) -> dict[str, Any]:
    return {"items_full": items[:full], "items_brief": items[full:shown],
            "omitted": len(items) - shown, "items_all": items[:shown]}


def _fit(html_for: Callable[[int, int], str], n: int,
         guard: Callable[[str], bool] | None) -> tuple[int, int]:
    """Most bulletins in full, then most headlines, whose HTML the guard accepts."""
    def fits(full: int, shown: int) -> bool:
        return guard is None or guard(html_for(full, shown))

    if fits(n, n):
        return n, n
    full = _largest(lambda k: fits(k, n), n - 1)
    if full > 0 or fits(0, n):
        return full, n
    return 0, _largest(lambda k: fits(0, k), n - 1)


def _largest(ok: Callable[[int], bool], hi: int) -> int:
    """The largest k in [0, hi] with ok(k), assuming ok is monotone (0 if none)."""
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
