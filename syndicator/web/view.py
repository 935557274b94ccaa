"""Renders the subscriber pages: text size, variant tokens, and the headers every page carries."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import HTMLResponse

from syndicator.compose import variants
from syndicator.config.settings import Settings
from syndicator.models.text import one_line
from syndicator.web.templates import environment

# Personal pages: never cached, never indexed, never leak their token in a Referer.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
}


def wants_large(request: Request, form_size: str | None, default: bool) -> bool:
    """?size=large|standard on a GET, the form's hidden size on a POST, else the default."""
    size = form_size or request.query_params.get("size")
    if size in ("large", "standard"):
        return size == "large"
    return default


class View:
    """One place that turns (template, context) into a response with the common context."""

    def __init__(self, settings: Settings) -> None:
        self._env = environment()
        self._common = {"site_title": one_line(settings.site.title),
                        "site_url": str(settings.site.url), "base_url": settings.base_url,
                        "contact": settings.site.contact,
                        "mail_interval_minutes": settings.subscriptions.mail_interval_minutes}
        messages = self._env.get_template("messages.j2").make_module(self._common)
        self.consent_text = one_line(str(cast(Any, messages).consent_text()))
        self.consent_version = hashlib.sha256(self.consent_text.encode()).hexdigest()[:16]

    def consent(self) -> dict[str, str]:
        """What a consent event records: the exact wording shown and its version."""
        return {"version": self.consent_version, "text": self.consent_text}

    def page(self, request: Request, template: str, *, large: bool, status: int = 200,
             **ctx: Any) -> HTMLResponse:
        context = self._common | {"large": large, "v": variants.tokens(large),
                                  "path": request.url.path, "size": "large" if large else
                                  "standard", "consent_text": self.consent_text} | ctx
        html = self._env.get_template(template).render(context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)
