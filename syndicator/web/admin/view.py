"""Renders the console's pages (templates/web/admin) with the labels, dates and headers they
share."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse

from syndicator.compose import variants
from syndicator.compose.templates import build_environment
from syndicator.config.settings import Settings
from syndicator.models.text import one_line
from syndicator.web.view import HEADERS

# The console's pages frame only its own preview pages.
ADMIN_HEADERS = HEADERS | {
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'"),
}


@functools.lru_cache(maxsize=4)
def environment(timezone: str) -> Environment:
    env = build_environment("web")
    tz = ZoneInfo(timezone)
    env.filters["when"] = lambda d: _when(d, tz)
    env.filters["iso"] = lambda d: d.astimezone(tz).isoformat(timespec="seconds") if d else ""
    return env


def _when(value: datetime | str | None, tz: ZoneInfo) -> str:
    """27/11/2026 07:00:03, in the configured zone; '—' for nothing."""
    if not value:
        return "—"
    if isinstance(value, str):  # the consent history's ISO 8601 times
        value = datetime.fromisoformat(value)
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S")


class AdminView:
    """One place that turns (template, context) into a console page."""

    def __init__(self, settings: Settings) -> None:
        self._env = environment(settings.timezone)
        self._common = {"site_title": one_line(settings.site.title),
                        "site_url": str(settings.site.url), "base_url": settings.base_url,
                        "v": variants.tokens(False), "large": False, "size": "standard",
                        "timezone": settings.timezone,
                        "mail_interval_minutes": settings.subscriptions.mail_interval_minutes}

    def page(self, request: Request, template: str, *, status: int = 200,
             headers: dict[str, str] | None = None, **ctx: Any) -> HTMLResponse:
        context = self._common | {"path": request.url.path, "current": None, "nav": ""} | ctx
        html = self._env.get_template(f"admin/{template}").render(context)
        return HTMLResponse(html, status_code=status, headers=headers or ADMIN_HEADERS)
