"""The Jinja2 environment for templates/email, found wherever the program runs from."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

# Every HTML extension we use: select_autoescape() alone does not cover ".html.j2".
AUTOESCAPE = ("html", "htm", "xml", "html.j2")
# Shared short texts are compiled twice. A macro's output is marked safe by an HTML caller,
# so the values it interpolates (the site title, say) must be escaped where the macro is
# compiled: HTML templates import the autoescaped alias, text templates and code the plain file.
HTML_ALIASES = {"messages.html.j2": "messages.j2"}
REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"  # an editable install's


class ResourceLoader(BaseLoader):
    """Templates shipped in the wheel as syndicator/templates/email (also zip-safe)."""

    def __init__(self, root: Traversable) -> None:
        self._root = root

    def get_source(self, environment: Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        node = self._root
        for part in template.split("/"):
            node = node / part
        if not node.is_file():
            raise TemplateNotFound(template)
        return node.read_text(encoding="utf-8"), None, lambda: True


class AliasLoader(BaseLoader):
    """Serves a template's source under a second name (compiled with that name's escaping)."""

    def __init__(self, base: BaseLoader, aliases: Mapping[str, str]) -> None:
        self._base = base
        self._aliases = dict(aliases)

    def get_source(self, environment: Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        return self._base.get_source(environment, self._aliases.get(template, template))


def build_environment(folder: str, **options: Any) -> Environment:
    """templates/<folder> ("email" or "web") with the settings every environment shares."""
    return Environment(
        loader=AliasLoader(ChoiceLoader(template_loaders(folder)), HTML_ALIASES),
        autoescape=select_autoescape(enabled_extensions=AUTOESCAPE, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        **options,
    )


def template_loaders(folder: str) -> list[BaseLoader]:
    """The packaged copy (a wheel ships templates/ inside the package), then the repository's
    (an editable install runs from it): found wherever the program runs from."""
    packaged = resources.files("syndicator") / "templates" / folder
    found: list[BaseLoader] = []
    if packaged.is_dir():
        found.append(ResourceLoader(packaged))
    if (REPO_TEMPLATES / folder).is_dir():
        found.append(FileSystemLoader(str(REPO_TEMPLATES / folder)))
    return found


@functools.lru_cache(maxsize=8)
def environment(timezone: str) -> Environment:
    """One environment per zone (templates are compiled once per process)."""
    env = build_environment("email", keep_trailing_newline=True)
    tz = ZoneInfo(timezone)
    env.filters["vi_weekday_date"] = lambda d: _vi_weekday_date(d, tz)
    env.filters["ddmm"] = lambda d: f"{d.day:02d}/{d.month:02d}"
    env.filters["ddmmyyyy"] = lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}"
    env.filters["web_url"] = web_url
    env.filters["hhmm"] = lambda d: f"{d.hour:02d}:{d.minute:02d}"
    env.filters["vi_weekday"] = lambda d: format_date(d, "EEEE", locale="vi")
    env.filters["vi_published"] = lambda d: _vi_published(d, tz)
    env.filters["ddmmyyyy_local"] = lambda d: f"{d.astimezone(tz):%d/%m/%Y}"
    return env


def _vi_weekday_date(value: datetime, tz: ZoneInfo) -> str:
    """'Thứ Hai, 27/11/2023' in the configured zone (Babel's Vietnamese weekday names)."""
    return format_date(value.astimezone(tz).date(), "EEEE, dd/MM/yyyy", locale="vi")


def _vi_published(value: datetime, tz: ZoneInfo) -> str:
    """'Thứ Năm, 03/12/2026, 09:30': when a bulletin was published, in the configured zone."""
    local = value.astimezone(tz)
    return f"{_vi_weekday_date(local, tz)}, {local.hour:02d}:{local.minute:02d}"


def web_url(value: str | None) -> str:
    """Only http(s) links reach a template's href; anything else becomes harmless."""
    if value and urlsplit(value).scheme in ("http", "https"):
        return value
    return "#"
