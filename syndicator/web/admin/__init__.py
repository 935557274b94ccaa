"""The operator's console under /admin: pages for people who run the subscriptions."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from syndicator.config.settings import Settings
from syndicator.console.roles import ADMIN, EDIT, VIEW
from syndicator.telemetry.health import Health
from syndicator.web.admin.agencies import AgencyPages
from syndicator.web.admin.bulletins import BulletinPages
from syndicator.web.admin.guard import Gate
from syndicator.web.admin.overview import Overview
from syndicator.web.admin.signin import SignIn
from syndicator.web.edges import MAX_BODY, StateDownPages

GET, POST, BOTH = ["GET", "HEAD"], ["POST"], ["GET", "HEAD", "POST"]


def routes(settings: Settings, engine: Engine, health: Health,
           wake_sender: Callable[[], None] = lambda: None) -> list[BaseRoute]:
    """Everything under /admin, in one mount: no public path reaches a console page.
    `wake_sender` is called when a page queued a mail (a re-sent confirmation)."""
    gate = Gate(settings, engine, wake_sender)
    sign = SignIn(gate)
    home = Overview(gate, health)
    agencies = AgencyPages(gate)
    bulletins = BulletinPages(gate)
    view, edit, admin = gate.page(VIEW), gate.page(EDIT), gate.page(ADMIN)
    pages = [
        Route("/", view(home.home), methods=GET),
        Route("/login", sign.login, methods=BOTH),
        Route("/logout", view(sign.logout), methods=POST),
        Route("/agencies", view(agencies.roster), methods=GET),
        Route("/agencies/new", edit(agencies.new), methods=BOTH),
        Route("/agencies/import", edit(agencies.import_page), methods=BOTH),
        Route("/agencies/export.csv", edit(agencies.export), methods=GET),
        Route("/agencies/{sid:int}", view(agencies.record), methods=GET),
        Route("/agencies/{sid:int}", edit(agencies.change), methods=POST),
        Route("/agencies/{sid:int}/preview", view(agencies.preview), methods=GET),
        Route("/agencies/{sid:int}/preview/{size}", view(agencies.preview_mail), methods=GET),
        Route("/runs", view(home.runs), methods=GET),
        Route("/runs/{run_id:int}", view(home.run), methods=GET),
        Route("/runs/{run_id:int}/proof.csv", view(home.run_csv), methods=GET),
        Route("/runs/{run_id:int}/print", view(home.run_print), methods=GET),
        Route("/bulletins", view(bulletins.listing), methods=GET),
        Route("/bulletins/{bid:int}", view(bulletins.record), methods=GET),
        Route("/bulletins/{bid:int}/proof.csv", view(bulletins.proof_csv), methods=GET),
        Route("/bulletins/{bid:int}/print", view(bulletins.proof_print), methods=GET),
        Route("/audit", admin(home.audit), methods=GET),
        Route("/accounts", admin(home.accounts), methods=GET),
        Route("/{rest:path}", view(home.missing), methods=BOTH),
    ]
    down = Middleware(StateDownPages, page=gate.problem, health=health)
    return [Mount("/admin", routes=pages, middleware=[down], max_body_size=MAX_BODY)]
