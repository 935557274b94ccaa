"""The Jinja2 environment for templates/email, found wherever the program runs from."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
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
_REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"


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


def _loaders() -> list[BaseLoader]:
    packaged = resources.files("syndicator") / "templates" / "email"
    found: list[BaseLoader] = []
    if packaged.is_dir():
        found.append(ResourceLoader(packaged))
    if _REPO_TEMPLATES.is_dir():  # an editable install runs from the repository
        found.append(FileSystemLoader(str(_REPO_TEMPLATES)))
    return found


@functools.lru_cache(maxsize=8)
def environment(timezone: str) -> Environment:
    """One environment per zone (templates are compiled once per process)."""
    env = Environment(
        loader=ChoiceLoader(_loaders()),
        autoescape=select_autoescape(enabled_extensions=AUTOESCAPE, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    tz = ZoneInfo(timezone)
    env.filters["vi_weekday_date"] = lambda d: _vi_weekday_date(d, tz)
    env.filters["ddmm"] = lambda d: f"{d.day:02d}/{d.month:02d}"
    env.filters["ddmmyyyy"] = lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}"
    env.filters["web_url"] = web_url
    return env


def _vi_weekday_date(value: datetime, tz: ZoneInfo) -> str:
    """'Thứ Hai, 27/11/2023' in the configured zone (Babel's Vietnamese weekday names)."""
    return format_date(value.astimezone(tz).date(), "EEEE, dd/MM/yyyy", locale="vi")


def web_url(value: str | None) -> str:
    """Only http(s) links reach a template's href; anything else becomes harmless."""
    if value and urlsplit(value).scheme in ("http", "https"):
        return value
    return "#"
