"""The console's gate: off until an account exists, a session on every page, the role an
action needs, a CSRF token on every POST (the 503 page when the state database is away is
web.edges.StateDownPages)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import quote

import structlog
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from syndicator.config.settings import Settings
from syndicator.console import accounts
from syndicator.console.roles import VIEW
from syndicator.console.sessions import Current, Sessions
from syndicator.subscribers.tokens import secret_key
from syndicator.web import forms
from syndicator.web.admin.view import AdminView
from syndicator.web.forms import FormTokens

log = structlog.get_logger(__name__)
# A console page's handler: (request, its session, the POSTed form or None).
Handler = Callable[[Request, Current, FormData | None], Awaitable[Response]]


def now() -> datetime:
    return datetime.now(UTC)


class Gate:
    """What every console page needs: settings, the engine, sessions, the view."""

    def __init__(self, settings: Settings, engine: Engine,
                 wake_sender: Callable[[], None] = lambda: None) -> None:
        self.s = settings
        self.engine = engine
        self.wake_sender = wake_sender
        self.view = AdminView(settings)
        self.secure = settings.public_base_url.scheme == "https"
        # The __Secure- prefix makes browsers refuse the cookie unless it came over https.
        self.cookie = "__Secure-syndicator-admin" if self.secure else "syndicator-admin"
        self._enabled = False

    @functools.cached_property
    def sessions(self) -> Sessions:
        return Sessions(self.engine, self.s.console, secret_key(self.s, self.engine))

    @functools.cached_property
    def forms(self) -> FormTokens:
        """Signed tokens for the sign-in form (before any session exists)."""
        return FormTokens(secret_key(self.s, self.engine))

    def client(self, request: Request) -> str:
        return forms.client_address(request, self.s.subscriptions.trusted_proxies)

    def enabled(self) -> bool:
        """Once an account exists the console stays on (accounts are disabled, not deleted)."""
        if not self._enabled:
            self._enabled = accounts.enabled(self.engine)
        return self._enabled

    def page(self, needs: str = VIEW) -> Callable[[Handler], Callable[[Request],
                                                                        Awaitable[Response]]]:
        """Wrap a handler: it runs only for a live session whose role is at least `needs`,
        and on a POST only with the session's CSRF token."""
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            @functools.wraps(handler)
            async def endpoint(request: Request) -> Response:
                if not await run_in_threadpool(self.enabled):
                    return self.problem(request, "disabled", 404)
                current = await run_in_threadpool(self.sessions.current,
                                                  request.cookies.get(self.cookie),
                                                  self.client(request), now())
                if current is None:
                    return self._to_sign_in(request)
                if not current.actor.can(needs):
                    return self.problem(request, "forbidden", 403, current)
                form = None
                if request.method == "POST":
                    form = await request.form()
                    if not self.sessions.csrf_ok(current, str(form.get("csrf") or "")):
                        log.info("admin.csrf_refused", path=request.url.path)
                        return self.problem(request, "csrf", 403, current)
                return await handler(request, current, form)
            return endpoint
        return wrap

    def _to_sign_in(self, request: Request) -> Response:
        if request.method != "GET":
            return self.problem(request, "signed_out", 403)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/admin/login?next={quote(target)}", status_code=303,
                                headers={"Cache-Control": "no-store"})

    def problem(self, request: Request, problem: str, status: int,
                current: Current | None = None) -> Response:
        return self.view.page(request, "problem.html.j2", status=status, problem=problem,
                              current=current)

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(self.cookie, value, path="/admin", secure=self.secure, httponly=True,
                            samesite="strict")

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(self.cookie, path="/admin", secure=self.secure, httponly=True,
                               samesite="strict")
