"""The HTTP application: one Starlette app holding every route the daemon serves."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from syndicator.config.settings import Settings
from syndicator.telemetry.health import Health
from syndicator.web import ops


def create_app(settings: Settings, engine: Engine, health: Health,
               wake_sender: Callable[[], None] = lambda: None) -> Starlette:
    """Operator routes plus each feature's routes (each feature module owns its paths)."""
    from syndicator.web import admin

    return Starlette(routes=[*ops.routes(health),
                             *feature_routes(settings, engine, wake_sender),
                             *admin.routes(settings, engine, health, wake_sender)])


def feature_routes(settings: Settings, engine: Engine,
                   wake_sender: Callable[[], None]) -> list[BaseRoute]:
    """Mounting point for user-facing routes.

    Each feature exposes `routes(...) -> list[BaseRoute]` in its own module under
    syndicator/web/ and is listed here: feeds (/feeds/...), the subscriber pages
    (/subscribe, /manage, /confirm, /preferences, /unsubscribe) and web copies of digests
    (/digests/<id>).
    """
    from syndicator.web import digests, feeds, pages

    return [*feeds.routes(settings), *pages.routes(settings, engine, wake_sender),
            *digests.routes(settings, engine)]
