"""The public forms: /subscribe (double opt-in) and /manage (a fresh link for a known address)."""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from syndicator.subscribers.policy import domain_allowed
from syndicator.subscribers.rules import InvalidField, build, normalize_email
from syndicator.subscribers.selfservice import MailOrder
from syndicator.subscribers.throttle import MailCeiling
from syndicator.telemetry import metrics
from syndicator.web import forms
from syndicator.web.forms import SubscriberFields
from syndicator.web.pagekit import PageKit
from syndicator.web.pagekit import now as _now

log = structlog.get_logger(__name__)


class SignupPages(PageKit):
    """Anyone may post these: form token, honeypot and rate limits come before any work."""

    _ceiling_logged: float | None = None  # when pages.mail_ceiling was last logged

    async def subscribe(self, request: Request) -> Response:
        if request.method == "GET":
            large = self._large(request, None)  # reading large: offer large mail first
            fields = SubscriberFields(text_size="large" if large else "standard")
            return await self._subscribe_form(request, fields, {}, 200, large)
        form = await forms.read_form(request)
        fields = SubscriberFields.read(form)
        refused = self._public_post_refused(request, form, "subscribe")
        large = self._large(request, form)
        if refused == "form_expired":
            return await self._subscribe_form(request, fields, {"form": refused}, 400, large)
        if refused:
            return self._public_refusal(request, form, refused, "subscribe")
        errors, new = await self._validate_new(fields)
        if new is None:
            metrics.page_refused(errors.get("email") or "invalid_form")
            return await self._subscribe_form(request, fields, errors, 400, large)
        if not await self._spend(form, "subscribe"):
            return await self._subscribe_form(request, fields, {"form": "form_expired"}, 400,
                                              large)
        detail = {"consent": self.view.consent(), "client": self._client(request),
                  "page": "/subscribe"}
        try:
            order = await run_in_threadpool(self.service.request_subscription, new,
                                            detail=detail, now=_now())
        except MailCeiling:
            return self._ceiling(request, large)
        _count(order, "subscribe_requested")
        return self._mail_later(order, self.view.page(
            request, "check_mail.html.j2", large=large, kind="subscribe", email=new.email))

    async def manage(self, request: Request) -> Response:
        if request.method == "GET":
            return self._manage_form(request, "", {}, 200, self._large(request, None))
        form = await forms.read_form(request)
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
        if not await self._spend(form, "manage"):
            return self._manage_form(request, email, {"form": "form_expired"}, 400, large)
        try:
            order = await run_in_threadpool(self.service.request_manage_link, email, now=_now())
        except MailCeiling:
            return self._ceiling(request, large)
        _count(order, "manage_link_requested")
        # The same page whether or not the address is known (and the mail goes out later).
        return self._mail_later(order, self.view.page(
            request, "check_mail.html.j2", large=large, kind="manage", email=email))

    def _public_post_refused(self, request: Request, form: FormData, purpose: str) -> str:
        reason = self._refusal(request, form, purpose)
        if reason:
            metrics.page_refused(reason)
        return reason

    def _refusal(self, request: Request, form: FormData, purpose: str) -> str:
        if self.forms.check(str(form.get("form_token") or ""), purpose) is None:
            return "form_expired"
        if forms.honeypot_filled(form):
            log.info("pages.honeypot", page=purpose)
            return "honeypot"
        if not self.per_client.hit(self._client(request)):
            log.info("pages.rate_limited", page=purpose)
            return "rate_limited"
        return ""

    def _ceiling(self, request: Request, large: bool) -> Response:
        """subscriptions.mails_per_hour reached: nothing is stored or queued; say when to
        come back. Logged once an hour at most (the metric counts every refusal)."""
        metrics.page_mail_ceiling()
        if self._ceiling_logged is None or time.monotonic() - self._ceiling_logged > 3600:
            self._ceiling_logged = time.monotonic()
            log.warning("pages.mail_ceiling", mails_per_hour=self.s.subscriptions.mails_per_hour)
        page = self.view.page(request, "problem.html.j2", large=large, status=429,
                              problem="mail_ceiling")
        page.headers["Retry-After"] = "600"
        return page

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
        """The mail waits in the outbox (queued with the request); the sender is woken."""
        if order is not None:
            self.wake_sender()
        return response


def _count(order: MailOrder | None, action: str) -> None:
    """No order: the address was mailed recently (or, for /manage, is unknown)."""
    if order is None:
        metrics.page_refused("no_mail")
    else:
        metrics.page_action(action)
