"""The HTTP application: one Starlette app holding every route the daemon serves."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from syndicator.config.settings import Settings
from syndicator.telemetry import metrics
from syndicator.telemetry.health import Health
from syndicator.web import ops
from syndicator.web.access_log import AccessLog
from syndicator.web.edges import BodyLimit, PageFor, StateDownPages
from syndicator.web.forms import FormRefused
from syndicator.web.view import View, wants_large

if TYPE_CHECKING:
    from syndicator.web.feeds import FeedFiles


def create_app(settings: Settings, engine: Engine, health: Health,
               wake_sender: Callable[[], None] = lambda: None) -> ASGIApp:
    """Operator routes plus each feature's routes (each feature module owns its paths), feed
    files first (feeds.FeedsFirst), all behind the access log when it is on; `wake_sender` is
    called when a page queued a mail. The operator's console is mounted under /admin."""
    from syndicator.web import admin, feeds

    http = settings.http
    operator = ops.routes(health, with_metrics=http.metrics_port is None,
                          metrics_token=metrics_token(settings))
    files = feeds.endpoint(settings)
    routes = [*operator, *feature_routes(settings, engine, wake_sender, files),
              *admin.routes(settings, engine, health, wake_sender)]
    page = problem_page(View(settings))
    edges = [Middleware(BodyLimit, page=page), Middleware(StateDownPages, page=page,
                                                          health=health)]
    site = Starlette(routes=routes, middleware=edges,
                     exception_handlers={FormRefused: _form_refused(page)})
    app = feeds.FeedsFirst(site, files)
    return AccessLog(app) if http.access_log else app


def problem_page(view: View) -> PageFor:
    """The public problem page (Vietnamese, standard size unless asked) for the edges."""

    def page(request: Request, problem: str, status: int) -> Response:
        large = wants_large(request, None, False)
        return view.page(request, "problem.html.j2", large=large, status=status, problem=problem)

    return page


def _form_refused(page: PageFor) -> Callable[[Request, Exception], Response]:
    def handle(request: Request, exc: Exception) -> Response:
        problem = exc.problem if isinstance(exc, FormRefused) else "form_unreadable"
        metrics.page_refused(problem)
        return page(request, problem, 400)

    return handle


def metrics_app(settings: Settings) -> Starlette:
    """The app of http.metrics_port: /metrics alone (same token rule)."""
    middleware = [Middleware(AccessLog)] if settings.http.access_log else []
    return Starlette(routes=[ops.metrics_route(metrics_token(settings))], middleware=middleware)


def metrics_token(settings: Settings) -> str | None:
    token = settings.http.metrics_token
    return token.get_secret_value() if token is not None else None


def feature_routes(settings: Settings, engine: Engine,
                   wake_sender: Callable[[], None] = lambda: None,
                   files: FeedFiles | None = None) -> list[BaseRoute]:
    """Mounting point for user-facing routes.

    Each feature exposes `routes(...) -> list[BaseRoute]` in its own module under
    syndicator/web/ and is listed here: feeds (/feeds/...), the subscriber pages
    (/subscribe, /manage, /confirm, /preferences, /unsubscribe) and web copies of digests
    (/digests/<id>).
    """
    from syndicator.web import digests, feeds, pages

    return [*feeds.routes(settings, files), *pages.routes(settings, engine, wake_sender),
            *digests.routes(settings, engine)]
