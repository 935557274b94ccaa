"""Subscriber pages: /subscribe, /manage, /confirm, /preferences, /unsubscribe (POST changes)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syndicator.config.settings import Settings
from syndicator.models.subscriber import TEXT_SIZES, Subscriber
from syndicator.subscribers.rules import InvalidField, build
from syndicator.subscribers.selfservice import ONE_CLICK, Confirmation, LinkGone
from syndicator.subscribers.tokens import InvalidToken, LinkToken
from syndicator.telemetry import metrics
from syndicator.web import forms
from syndicator.web.forms import SubscriberFields
from syndicator.web.pagekit import PageKit
from syndicator.web.pagekit import now as _now
from syndicator.web.signup import SignupPages

log = structlog.get_logger(__name__)
PAGE_METHODS = ["GET", "POST"]
ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"  # RFC 8058 section 3.2
# A personal page's handler: (request, the POSTed form or None, the link token, its content).
Handler = Callable[[Request, FormData | None, str, LinkToken], Awaitable[Response]]


class _Link(Exception):
    """A link token that cannot be used: the page to show instead (and its status)."""

    def __init__(self, problem: str, status: int) -> None:
        super().__init__(problem)
        self.problem, self.status = problem, status


class PersonalPages(PageKit):
    """Pages behind a link token: GET renders, only POST changes anything."""

    async def confirm(self, request: Request) -> Response:
        return await self._personal(request, "confirm", self._confirm)

    async def preferences(self, request: Request) -> Response:
        return await self._personal(request, "manage", self._preferences)

    async def unsubscribe(self, request: Request) -> Response:
        return await self._personal(request, "unsubscribe", self._unsubscribe)

    async def _personal(self, request: Request, purpose: str, handler: Handler) -> Response:
        token = request.path_params["token"]
        form = None
        if request.method == "POST":
            body = await request.body()  # kept: form() below parses the same bytes
            form = await forms.read_form(request)
            if body.strip() == ONE_CLICK_BODY and "List-Unsubscribe" not in form:
                form = FormData([("List-Unsubscribe", "One-Click")])  # sent without a type
        try:
            link = await run_in_threadpool(self._load, token, purpose)
            return await handler(request, form, token, link)
        except LinkGone:  # reset or removed (possibly while this request was on its way)
            refused = _Link("link_gone", 410)
        except _Link as bad:
            refused = bad
        metrics.page_refused(refused.problem)
        return self.view.page(request, "problem.html.j2", status=refused.status,
                              large=self._large(request, form),
                              problem=refused.problem, purpose=purpose)

    def _load(self, token: str, purpose: str) -> LinkToken:
        """The token's content, signature and age checked; its subscriber is the handler's."""
        max_age = self.s.subscriptions.confirm_days * 86400 if purpose == "confirm" else None
        try:
            return self.tokens.read_link(token, purpose, max_age=max_age)
        except InvalidToken as exc:
            log.info("pages.link_refused", purpose=purpose, reason=exc.reason)
            raise _Link(f"link_{exc.reason}", 410 if exc.reason == "expired" else 400) from None

    def _personal_page(self, request: Request, form: FormData | None, template: str,
                       token: str, sub: Subscriber, status: int = 200, **ctx: Any) -> Response:
        purpose = template.split(".")[0]
        ctx = {"done": False, "errors": {}, "state": "", "preselected": ""} | ctx
        return self.view.page(
            request, template, status=status, large=self._large(request, form, sub),
            sub=sub, form_token=self.forms.make(purpose, token, self.view.consent_version),
            manage_url=self.links.preferences(sub.id, sub.token_version),
            unsubscribe_url=self.links.unsubscribe(sub.id, sub.token_version), **ctx)

    def _form_ok(self, form: FormData, purpose: str, token: str) -> bool:
        return self.forms.check(str(form.get("form_token") or ""), purpose, token) is not None

    async def _confirm(self, request: Request, form: FormData | None, token: str,
                       link: LinkToken) -> Response:
        page = functools.partial(self._confirm_page, request, form, token)
        if form is None:
            return page(await run_in_threadpool(self.service.confirmation, link))
        if not self._form_ok(form, "confirm", token) or not await self._spend(form, "confirm",
                                                                             token):
            found = await run_in_threadpool(self.service.confirmation, link)  # may be gone
            metrics.page_refused("form_expired")
            return page(found, status=400, errors={"form": "form_expired"})
        found = await run_in_threadpool(self.service.confirm, link,
                                        detail=self._evidence(request, form, "confirm", token),
                                        now=_now())
        if found.state == "confirmed":
            metrics.page_action("confirmed")
        elif found.state == "closed":  # an old link after unsubscribing or bouncing
            metrics.page_refused("confirm_closed")
        return page(found, status=409 if found.state == "closed" else 200)

    def _confirm_page(self, request: Request, form: FormData | None, token: str,
                      found: Confirmation, status: int = 200, **ctx: Any) -> Response:
        return self._personal_page(request, form, "confirm.html.j2", token, found.shown,
                                   status=status, state=found.state, **ctx)

    async def _preferences(self, request: Request, form: FormData | None, token: str,
                           link: LinkToken) -> Response:
        sub = await run_in_threadpool(self.service.subscriber, link.subscriber_id, link.version)
        categories = await run_in_threadpool(self._categories)
        page = functools.partial(self._personal_page, request, form, "preferences.html.j2",
                                 token, categories=categories)
        if form is None:  # ?text_size= (the digest's "switch size" link) only preselects
            preselect = _size_asked(request, sub)
            return page(sub, fields=replace(_fields_of(sub), text_size=preselect or
                                            sub.text_size), preselected=preselect)
        fields = SubscriberFields.read(form)
        if not self._form_ok(form, "preferences", token):
            metrics.page_refused("form_expired")
            return page(sub, status=400, fields=fields, errors={"form": "form_expired"})
        evidence = self._evidence(request, form, "preferences", token)
        if form.get("action") == "resubscribe":
            if not await self._spend(form, "preferences", token):
                return page(sub, status=400, fields=fields, errors={"form": "form_expired"})
            sub, event = await run_in_threadpool(self.service.resubscribe, sub.id,
                                                 sub.token_version, detail=evidence, now=_now())
            done = event or "resubscribed"  # None: already active (a form sent twice)
            metrics.page_action(done)
            return page(sub, fields=_fields_of(sub), done=done)
        try:
            new = build(sub.email, fields.name, fields.frequency, fields.categories,
                        fields.text_size, categories)
        except InvalidField as exc:
            return page(sub, status=400, fields=fields, errors={exc.field: f"{exc.field}_invalid"})
        if not await self._spend(form, "preferences", token):
            return page(sub, status=400, fields=fields, errors={"form": "form_expired"})
        sub = await run_in_threadpool(self.service.save_preferences, sub.id, sub.token_version,
                                      new, fields.paused, detail={"client": evidence["client"]},
                                      now=_now())
        self.wake_sender()  # a changed choice queued its notice
        metrics.page_action("preferences_saved")
        return page(sub, fields=_fields_of(sub), done="saved")

    async def _unsubscribe(self, request: Request, form: FormData | None, token: str,
                           link: LinkToken) -> Response:
        sub = await run_in_threadpool(self.service.subscriber, link.subscriber_id, link.version)
        page = functools.partial(self._personal_page, request, form, "unsubscribe.html.j2", token)
        if form is None:
            return page(sub)
        one_click = form.get("List-Unsubscribe") == "One-Click"
        if not one_click and not self._form_ok(form, "unsubscribe", token):
            metrics.page_refused("form_expired")
            return page(sub, status=400, errors={"form": "form_expired"})
        if not one_click and not await self._spend(form, "unsubscribe", token):
            return page(sub, status=400, errors={"form": "form_expired"})
        sub = await run_in_threadpool(
            self.service.unsubscribe, sub.id, sub.token_version,
            source=ONE_CLICK if one_click else "unsubscribe-page",
            detail={"client": self._client(request)}, now=_now())
        self.wake_sender()  # the page's unsubscribe queued its notice
        metrics.page_action("unsubscribed_one_click" if one_click else "unsubscribed")
        return page(sub, done=True)


def _size_asked(request: Request, sub: Subscriber) -> str:
    """The text size a link asks to preselect, when it is not the subscriber's already (only
    an active subscriber sees the preferences form)."""
    size = request.query_params.get("text_size", "")
    wanted = sub.status == "active" and size in TEXT_SIZES and size != sub.text_size
    return size if wanted else ""


def _fields_of(sub: Subscriber) -> SubscriberFields:
    return SubscriberFields(email=sub.email, name=sub.name, frequency=sub.frequency,
                            categories=list(sub.categories), text_size=sub.text_size,
                            paused=sub.paused)


def routes(settings: Settings, engine: Engine,
           wake_sender: Callable[[], None] = lambda: None) -> list[BaseRoute]:
    """The subscriber pages, to mount in the daemon's app; `wake_sender` is called when a
    page queued a mail."""
    signup = SignupPages(settings, engine, wake_sender)
    pages = PersonalPages(settings, engine, wake_sender)
    return [
        Route("/subscribe", signup.subscribe, methods=PAGE_METHODS),
        Route("/manage", signup.manage, methods=PAGE_METHODS),
        Route("/confirm/{token}", pages.confirm, methods=PAGE_METHODS),
        Route("/preferences/{token}", pages.preferences, methods=PAGE_METHODS),
        Route("/unsubscribe/{token}", pages.unsubscribe, methods=PAGE_METHODS),
    ]
