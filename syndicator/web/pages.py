"""Subscriber pages: /subscribe, /manage, /confirm, /preferences, /unsubscribe (POST changes)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syndicator.links import Links
from syndicator.settings import Settings
from syndicator.state import subscribers as store
from syndicator.subscribers.model import InvalidField, Subscriber, build, normalize_email
from syndicator.subscribers.policy import SlidingWindow, domain_allowed
from syndicator.subscribers.selfservice import LinkGone, MailOrder, SelfService
from syndicator.tokens import InvalidToken, Tokens, secret_key
from syndicator.web import forms
from syndicator.web.forms import FormTokens, SubscriberFields
from syndicator.web.mailer import PageMailer
from syndicator.web.view import View, wants_large

log = structlog.get_logger(__name__)
PAGE_METHODS = ["GET", "POST"]
ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"  # RFC 8058 section 3.2


def _now() -> datetime:
    return datetime.now(timezone.utc)


class _Link(Exception):
    """A link token that cannot be used: the page to show instead (and its status)."""

    def __init__(self, problem: str, status: int) -> None:
        super().__init__(problem)
        self.problem, self.status = problem, status


class Pages:
    """Handlers; secrets and mailers are built at the first request (the daemon migrates first)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.s = settings
        self.engine = engine
        self.view = View(settings)
        sub = settings.subscriptions
        self.service = SelfService(engine, timedelta(minutes=sub.mail_interval_minutes))
        self.per_client = SlidingWindow(sub.requests_per_client_per_hour, 3600)

    @functools.cached_property
    def tokens(self) -> Tokens:
        return Tokens(secret_key(self.s, self.engine))

    @functools.cached_property
    def forms(self) -> FormTokens:
        return FormTokens(secret_key(self.s, self.engine))

    @functools.cached_property
    def links(self) -> Links:
        return Links(self.s, self.tokens)

    @functools.cached_property
    def mailer(self) -> PageMailer:
        return PageMailer(self.s, self.links)

    # --- /subscribe and /manage: public forms ----------------------------------------------

    async def subscribe(self, request: Request) -> Response:
        if request.method == "GET":
            large = self._large(request, None)  # reading large: offer large mail first
            fields = SubscriberFields(text_size="large" if large else "standard")
            return await self._subscribe_form(request, fields, {}, 200, large)
        form = await request.form()
        fields = SubscriberFields.read(form)
        refused = self._public_post_refused(request, form, "subscribe")
        large = self._large(request, form)
        if refused == "form_expired":
            return await self._subscribe_form(request, fields, {"form": refused}, 400, large)
        if refused:
            return self._public_refusal(request, form, refused, "subscribe")
        errors, new = await self._validate_new(fields)
        if new is None:
            return await self._subscribe_form(request, fields, errors, 400, large)
        detail = {"consent": self.view.consent(), "client": self._client(request),
                  "page": "/subscribe"}
        order = await run_in_threadpool(self.service.request_subscription, new, detail=detail,
                                        now=_now())
        return self._mail_later(order, self.view.page(
            request, "check_mail.html.j2", large=large, kind="subscribe", email=new.email))

    async def manage(self, request: Request) -> Response:
        if request.method == "GET":
            return self._manage_form(request, "", {}, 200, self._large(request, None))
        form = await request.form()
        email = str(form.get("email") or "")[:400]
        refused = self._public_post_refused(request, form, "manage")
        large = self._large(request, form)
        if refused == "form_expired":
            return self._manage_form(request, email, {"form": refused}, 400, large)
        if refused:
            return self._public_refusal(request, form, refused, "manage")
        try:
            email = normalize_email(email)
        except InvalidField:
            return self._manage_form(request, email, {"email": "email_invalid"}, 400, large)
        order = await run_in_threadpool(self.service.request_manage_link, email, now=_now())
        # The same page whether or not the address is known (and the mail goes out later).
        return self._mail_later(order, self.view.page(
            request, "check_mail.html.j2", large=large, kind="manage", email=email))

    def _public_post_refused(self, request: Request, form: FormData, purpose: str) -> str:
        if self.forms.check(str(form.get("form_token") or ""), purpose) is None:
            return "form_expired"
        if forms.honeypot_filled(form):
            log.info("pages.honeypot", page=purpose)
            return "honeypot"
        if not self.per_client.hit(self._client(request)):
            log.info("pages.rate_limited", page=purpose)
            return "rate_limited"
        return ""

    def _public_refusal(self, request: Request, form: FormData, refused: str,
                        kind: str) -> Response:
        large = self._large(request, form)
        if refused == "honeypot":  # a bot learns nothing: the usual answer, nothing done
            return self.view.page(request, "check_mail.html.j2", large=large, kind=kind,
                                  email=str(form.get("email") or ""))
        return self.view.page(request, "problem.html.j2", large=large, status=429,
                              problem="rate_limited")

    async def _validate_new(self, f: SubscriberFields) -> tuple[dict[str, str], Any]:
        errors: dict[str, str] = {}
        known = await run_in_threadpool(self._categories)
        try:
            new = build(f.email, f.name, f.frequency, f.categories, f.text_size, known)
        except InvalidField as exc:
            errors[exc.field] = f"{exc.field}_invalid"
            new = None
        if new is not None and not domain_allowed(new.email, self.s.subscriptions.allowed_domains):
            errors["email"] = "domain_not_allowed"
        if not f.consent:
            errors["consent"] = "consent_missing"
        return errors, (new if not errors else None)

    async def _subscribe_form(self, request: Request, fields: SubscriberFields,
                              errors: dict[str, str], status: int, large: bool) -> Response:
        categories = await run_in_threadpool(self._categories)
        token = self.forms.make("subscribe", consent=self.view.consent_version)
        return self.view.page(request, "subscribe.html.j2", large=large, status=status,
                              fields=fields, errors=errors, categories=categories, form_token=token,
                              allowed_domains=self.s.subscriptions.allowed_domains)

    def _manage_form(self, request: Request, email: str, errors: dict[str, str],
                     status: int, large: bool) -> Response:
        return self.view.page(request, "manage.html.j2", large=large, status=status, email=email,
                              errors=errors, form_token=self.forms.make("manage"))

    def _mail_later(self, order: MailOrder | None, response: Response) -> Response:
        if order is not None:
            response.background = BackgroundTask(self._send, order)
        return response

    async def _send(self, order: MailOrder) -> None:
        try:
            problem = await self.mailer.send(order)
        except Exception as exc:  # a template or config fault must not lose the record
            log.exception("pages.mail_error", kind=order.kind)
            problem = type(exc).__name__
        if problem is not None:
            await run_in_threadpool(self.service.mail_failed, order, problem, now=_now())

    # --- personal pages behind a link token ------------------------------------------------

    async def confirm(self, request: Request) -> Response:
        return await self._personal(request, "confirm", self._confirm)

    async def preferences(self, request: Request) -> Response:
        return await self._personal(request, "manage", self._preferences)

    async def unsubscribe(self, request: Request) -> Response:
        return await self._personal(request, "unsubscribe", self._unsubscribe)

    async def _personal(self, request: Request, purpose: str, handler: Any) -> Response:
        token = request.path_params["token"]
        form = None
        if request.method == "POST":
            body = await request.body()  # kept: form() below parses the same bytes
            form = await request.form()
            if body.strip() == ONE_CLICK_BODY and "List-Unsubscribe" not in form:
                form = FormData([("List-Unsubscribe", "One-Click")])  # sent without a type
        try:
            sub = await run_in_threadpool(self._load, token, purpose)
        except _Link as link:
            return self.view.page(request, "problem.html.j2", status=link.status,
                                  large=self._large(request, form),
                                  problem=link.problem, purpose=purpose)
        return await handler(request, form, token, sub)

    def _load(self, token: str, purpose: str) -> Subscriber:
        max_age = self.s.subscriptions.confirm_days * 86400 if purpose == "confirm" else None
        try:
            sid, version = self.tokens.read(token, purpose, max_age=max_age)
            return self.service.subscriber(sid, version)
        except InvalidToken as exc:
            log.info("pages.link_refused", purpose=purpose, reason=exc.reason)
            raise _Link(f"link_{exc.reason}", 410 if exc.reason == "expired" else 400) from None
        except LinkGone:
            raise _Link("link_gone", 410) from None

    def _personal_page(self, request: Request, form: FormData | None, template: str,
                       token: str, sub: Subscriber, status: int = 200, **ctx: Any) -> Response:
        purpose = template.split(".")[0]
        ctx = {"done": False, "errors": {}} | ctx
        return self.view.page(
            request, template, status=status, large=self._large(request, form, sub),
            sub=sub, form_token=self.forms.make(purpose, token, self.view.consent_version),
            manage_url=self.links.preferences(sub.id, sub.token_version),
            unsubscribe_url=self.links.unsubscribe(sub.id, sub.token_version), **ctx)

    def _form_ok(self, form: FormData, purpose: str, token: str) -> bool:
        return self.forms.check(str(form.get("form_token") or ""), purpose, token) is not None

    async def _confirm(self, request: Request, form: FormData | None, token: str,
                       sub: Subscriber) -> Response:
        page = functools.partial(self._personal_page, request, form, "confirm.html.j2", token)
        if form is None:
            return page(sub)
        if not self._form_ok(form, "confirm", token):
            return page(sub, status=400, errors={"form": "form_expired"})
        sub = await run_in_threadpool(self.service.confirm, sub.id, sub.token_version,
                                      detail=self._evidence(request, form, "confirm", token),
                                      now=_now())
        return page(sub, done=True)

    async def _preferences(self, request: Request, form: FormData | None, token: str,
                           sub: Subscriber) -> Response:
        categories = await run_in_threadpool(self._categories)
        page = functools.partial(self._personal_page, request, form, "preferences.html.j2",
                                 token, categories=categories)
        if form is None:
            return page(sub, fields=_fields_of(sub))
        fields = SubscriberFields.read(form)
        if not self._form_ok(form, "preferences", token):
            return page(sub, status=400, fields=fields, errors={"form": "form_expired"})
        evidence = self._evidence(request, form, "preferences", token)
        if form.get("action") == "resubscribe":
            sub = await run_in_threadpool(self.service.resubscribe, sub.id, sub.token_version,
                                          detail=evidence, now=_now())
            return page(sub, fields=_fields_of(sub), done="resubscribed")
        try:
            new = build(sub.email, fields.name, fields.frequency, fields.categories,
                        fields.text_size, categories)
        except InvalidField as exc:
            return page(sub, status=400, fields=fields, errors={exc.field: f"{exc.field}_invalid"})
        sub = await run_in_threadpool(self.service.save_preferences, sub.id, sub.token_version,
                                      new, fields.paused, detail={"client": evidence["client"]},
                                      now=_now())
        return page(sub, fields=_fields_of(sub), done="saved")

    async def _unsubscribe(self, request: Request, form: FormData | None, token: str,
                           sub: Subscriber) -> Response:
        page = functools.partial(self._personal_page, request, form, "unsubscribe.html.j2", token)
        if form is None:
            return page(sub)
        one_click = form.get("List-Unsubscribe") == "One-Click"
        if not one_click and not self._form_ok(form, "unsubscribe", token):
            return page(sub, status=400, errors={"form": "form_expired"})
        sub = await run_in_threadpool(
            self.service.unsubscribe, sub.id, sub.token_version,
            source="one-click" if one_click else "unsubscribe-page",
            detail={"client": self._client(request)}, now=_now())
        return page(sub, done=True)

    # --- helpers ----------------------------------------------------------------------------

    def _categories(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(store.known_categories(conn))

    def _client(self, request: Request) -> str:
        return forms.client_address(request, self.s.subscriptions.trusted_proxies)

    def _evidence(self, request: Request, form: FormData, purpose: str,
                  token: str) -> dict[str, Any]:
        """Who sent the form, and the consent wording version its page showed."""
        data = self.forms.check(str(form.get("form_token") or ""), purpose, token) or {}
        shown = data.get("c") or self.view.consent_version
        consent: dict[str, str] = {"version": shown}
        if shown == self.view.consent_version:
            consent["text"] = self.view.consent_text
        return {"consent": consent, "client": self._client(request)}

    @staticmethod
    def _large(request: Request, form: FormData | None, sub: Subscriber | None = None) -> bool:
        size = str(form.get("size") or "") if form is not None else None
        return wants_large(request, size, sub is not None and sub.text_size == "large")


def _fields_of(sub: Subscriber) -> SubscriberFields:
    return SubscriberFields(email=sub.email, name=sub.name, frequency=sub.frequency,
                            categories=list(sub.categories), text_size=sub.text_size,
                            paused=sub.paused)


def routes(settings: Settings, engine: Engine) -> list[BaseRoute]:
    """The subscriber pages, to mount in the daemon's app."""
    pages = Pages(settings, engine)
    return [
        Route("/subscribe", pages.subscribe, methods=PAGE_METHODS),
        Route("/manage", pages.manage, methods=PAGE_METHODS),
        Route("/confirm/{token}", pages.confirm, methods=PAGE_METHODS),
        Route("/preferences/{token}", pages.preferences, methods=PAGE_METHODS),
        Route("/unsubscribe/{token}", pages.unsubscribe, methods=PAGE_METHODS),
    ]
