"""The HTML part's structure after css-inline, both variants: what mail clients and readers rely on.

Each check returns the problems it finds, so the last test can show it fails on broken HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser

import pytest

from syndicator.compose import variants
from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.support.digests import bulletin, digest, parse, recipient

DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
MID = "<html@syndicator.example>"
TITLES = ("Thông báo số 1 về tuyển dụng công chức tỉnh Bắc Kạn năm 2023",
          "Quyết định phê duyệt Đề án vị trí việc làm & cơ cấu ngạch công chức năm 2024",
          "Thông báo số 3 về tuyển dụng công chức tỉnh Bắc Kạn năm 2023",
          "Kế hoạch cải cách hành chính năm 2024", "Thông báo số 5 về thi đua khen thưởng")
INTRO = "5 tin mới từ 26/11 đến 27/11/2023:"
# The .preheader rule: hidden everywhere (Outlook needs mso-hide) yet still read as preview text.
PREHEADER = {"display": "none", "font-size": "1px", "line-height": "1px", "max-height": "0",
             "max-width": "0", "opacity": "0", "overflow": "hidden", "mso-hide": "all"}
DARK = "@media (prefers-color-scheme: dark)"
VARIANTS = pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])


class Tags(HTMLParser):
    """Start tags in document order (comments, e.g. Outlook's conditional ones, skipped)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def declarations(style: str) -> dict[str, str]:
    pairs = (d.split(":", 1) for d in style.split(";") if ":" in d)
    return {k.strip().lower(): v.strip() for k, v in pairs}


def digest_html(large: bool) -> str:
    items = tuple(bulletin(i, title=t) for i, t in enumerate(TITLES, 1))
    raw = DigestComposer(Settings()).message(digest(bulletins=items), recipient(large=large),
                                             message_id=MID, date=DATE)
    part = parse(raw).get_body(("html",))
    assert part is not None
    return part.get_content()


def every_html(large: bool) -> dict[str, str]:
    """Every kind of HTML syndicator sends or serves, in one variant."""
    composer, r = DigestComposer(Settings()), recipient(large=large)
    raws = {"confirmation": composer.confirmation(r, confirm_url="http://127.0.0.1:8080/c/t",
                                                  message_id=MID, date=DATE)}
    for kind in ("unsubscribed", "preferences_changed", "manage_link"):
        raws[kind] = composer.notice(r, kind, message_id=MID, date=DATE)
    found = {"digest": digest_html(large), "web copy": composer.web_copy(digest(3), large=large)}
    for name, raw in raws.items():
        part = parse(raw).get_body(("html",))
        assert part is not None
        found[name] = part.get_content()
    return found


# --- the checks -------------------------------------------------------------------------------

def inline_important(html: str) -> list[str]:
    """Style attributes with !important anywhere in them (it would beat the reader's own CSS)."""
    return re.findall(r"""\bstyle\s*=\s*(?:"[^"]*!important[^"]*"|'[^']*!important[^']*')""",
                      html, flags=re.IGNORECASE)


def tables_without_role(html: str) -> list[str]:
    """Every <table>, also those inside Outlook's conditional comments, is layout only."""
    tables = re.findall(r"<table\b[^>]*>", html, flags=re.IGNORECASE)
    if not tables:
        return ["no <table> at all"]
    return [t for t in tables if not re.search(r'\brole\s*=\s*"presentation"', t)]


def zoom_limits(html: str) -> list[str]:
    metas = [a for tag, a in Tags(html).tags if tag == "meta" and a.get("name") == "viewport"]
    if len(metas) != 1:
        return [f"{len(metas)} viewport meta elements"]
    content = {k.strip().lower(): v.strip().lower() for k, _, v in
               (item.partition("=") for item in metas[0].get("content", "").split(","))}
    problems = [] if content.get("width") == "device-width" else [f"width: {content}"]
    if "maximum-scale" in content:
        problems.append(f"maximum-scale={content['maximum-scale']}")
    if content.get("user-scalable", "yes") in ("no", "0"):
        problems.append(f"user-scalable={content['user-scalable']}")
    return problems


def dark_rule_problems(html: str, large: bool) -> list[str]:
    """The dark-scheme @media rules survived css-inline and paint the page dark."""
    css = "".join(re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.DOTALL))
    start = css.find(DARK)
    if start < 0:
        return [f"no {DARK} rules in <style>"]
    block, depth = "", 0
    for ch in css[css.index("{", start):]:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        block += ch
        if depth == 0:
            break
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", block[1:-1]):
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations(body))
    v = variants.tokens(large)
    wanted = {(".body", "background-color"): v["dark_bg"],
              (".container", "background-color"): v["dark_panel"],
              (".content", "background-color"): v["dark_panel"],
              ("p", "color"): v["dark_text"], ("a", "color"): v["dark_link"]}
    return [f"{sel} {{{prop}: {rules.get(sel, {}).get(prop)}}}, wanted {value} !important"
            for (sel, prop), value in wanted.items()
            if rules.get(sel, {}).get(prop) != f"{value} !important"]


def preheader_problems(html: str, text: str) -> list[str]:
    """The preview text comes first in <body>, hidden by the .preheader rule, and says `text`."""
    tags = Tags(html).tags
    names = [tag for tag, _ in tags]
    if "body" not in names or names.index("body") + 1 >= len(tags):
        return ["no element in <body>"]
    tag, attrs = tags[names.index("body") + 1]
    if tag != "div" or attrs.get("class") != "preheader":
        return [f"the first element in <body> is <{tag} {attrs}>, not the preheader"]
    style = declarations(attrs.get("style", ""))
    problems = [f"{k}: {style.get(k)}, wanted {v}" for k, v in PREHEADER.items()
                if style.get(k) != v]
    shown = re.search(r'<div\b[^>]*class="preheader"[^>]*>(.*?)</div>', html, flags=re.DOTALL)
    if shown is None or " ".join(unescape(shown.group(1)).split()) != text:
        problems.append(f"preheader text {shown and shown.group(1)!r}, wanted {text!r}")
    return problems


def toc_problems(html: str, titles: tuple[str, ...]) -> list[str]:
    """The headline list names every bulletin, in order, before the first bulletin itself."""
    toc = re.search(r'<ol\b[^>]*class="toc"[^>]*>(.*?)</ol>', html, flags=re.DOTALL)
    first = re.search(r'<div\b[^>]*class="item"', html)
    if toc is None or first is None:
        return [f"headline list found: {toc is not None}, bulletin found: {first is not None}"]
    problems = [] if toc.start() < first.start() else ["the headline list follows a bulletin"]
    listed = tuple(unescape(t) for t in re.findall(r"<a\b[^>]*>(.*?)</a>", toc.group(1)))
    if listed != titles:
        problems.append(f"headlines {listed}, wanted {titles}")
    return problems


# --- the messages -----------------------------------------------------------------------------

@VARIANTS
def test_no_inline_important_anywhere(large: bool) -> None:
    for name, html in every_html(large).items():
        assert inline_important(html) == [], name
        assert " !important" in html, name  # only the <style> overrides use it


@VARIANTS
def test_dark_mode_rules_survive_inlining(large: bool) -> None:
    for name, html in every_html(large).items():
        assert dark_rule_problems(html, large) == [], name
        metas = {a.get("name"): a.get("content") for t, a in Tags(html).tags if t == "meta"}
        assert metas.get("color-scheme") == "light dark", name


@VARIANTS
def test_every_table_is_a_layout_table(large: bool) -> None:
    for name, html in every_html(large).items():
        assert tables_without_role(html) == [], name


@VARIANTS
def test_zoom_is_never_blocked(large: bool) -> None:
    for name, html in every_html(large).items():
        assert zoom_limits(html) == [], name


@VARIANTS
def test_preheader_is_present_and_hidden(large: bool) -> None:
    assert preheader_problems(digest_html(large), INTRO + " " + "; ".join(TITLES[:3])) == []


@VARIANTS
def test_headlines_come_before_the_bulletins(large: bool) -> None:
    assert toc_problems(digest_html(large), TITLES) == []


# --- the checks fail on broken HTML -----------------------------------------------------------

def _move_toc_to_the_end(html: str) -> str:
    toc = re.search(r'<ol\b[^>]*class="toc".*?</ol>', html, flags=re.DOTALL)
    assert toc is not None
    rest = html[:toc.start()] + html[toc.end():]
    return rest.replace("</main>", toc.group(0) + "</main>", 1)


def _strip_dark_rules(html: str) -> str:
    start = html.index(DARK)
    return html[:start] + html[html.index("\n}", start) + 2:]


BREAKAGES: dict[str, tuple[Callable[[str], str], Callable[[str], list[str]]]] = {
    "!important mid-attribute": (
        lambda h: h.replace('<h1 style="', '<h1 style="color: #000 !important;', 1),
        inline_important),
    "single-quoted !important": (
        lambda h: h.replace("<h1 ", "<h1 style='color: #000 !important' ", 1), inline_important),
    "button table without role": (
        lambda h: h.replace('class="button-table" role="presentation"',
                            'class="button-table"', 1), tables_without_role),
    "Outlook wrapper without role": (
        lambda h: h.replace('<!--[if mso]><table role="presentation"', "<!--[if mso]><table", 1),
        tables_without_role),
    "maximum-scale": (lambda h: h.replace("initial-scale=1", "initial-scale=1, maximum-scale=1"),
                      zoom_limits),
    "user-scalable=no": (lambda h: h.replace("initial-scale=1", "initial-scale=1,user-scalable=no"),
                         zoom_limits),
    "dark rules dropped": (_strip_dark_rules, lambda h: dark_rule_problems(h, False)),
    "dark panel light": (lambda h: h.replace("#1b1f24 !important", "#ffffff !important"),
                         lambda h: dark_rule_problems(h, False)),
    "preheader shown": (lambda h: h.replace("display: none;", "", 1),
                        lambda h: preheader_problems(h, INTRO + " " + "; ".join(TITLES[:3]))),
    "preheader after the masthead": (
        lambda h: h.replace('<div class="preheader"', '<p>x</p><div class="preheader"', 1),
        lambda h: preheader_problems(h, INTRO + " " + "; ".join(TITLES[:3]))),
    "headlines after the bulletins": (_move_toc_to_the_end, lambda h: toc_problems(h, TITLES)),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_checks_catch_broken_html(breakage: str) -> None:
    html = digest_html(False)
    broken_by, check = BREAKAGES[breakage]
    broken = broken_by(html)
    assert broken != html, "the breakage did not apply: update it to the current template"
    assert check(broken), breakage
