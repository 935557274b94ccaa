"""What the subscriber pages share: settings, the service, tokens, small helpers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request

from syndicator.config.settings import Settings
from syndicator.models.subscriber import Subscriber
from syndicator.state import spent
from syndicator.state import subscribers as store
from syndicator.subscribers.links import Links
from syndicator.subscribers.policy import SlidingWindow
from syndicator.subscribers.selfservice import SelfService
from syndicator.subscribers.tokens import Tokens, secret_key
from syndicator.telemetry import metrics
from syndicator.web import forms
from syndicator.web.forms import FormTokens
from syndicator.web.view import View, wants_large


def now() -> datetime:
    return datetime.now(UTC)


class PageKit:
    """What every page needs; secrets and mailers are built at the first request (the daemon
    migrates first)."""

    def __init__(self, settings: Settings, engine: Engine,
                 wake_sender: Callable[[], None] = lambda: None) -> None:
        self.s = settings
        self.engine = engine
        self.wake_sender = wake_sender  # the daemon's delivery loop: a page mail is queued
        self.view = View(settings)
        sub = settings.subscriptions
        self.service = SelfService(engine, timedelta(minutes=sub.mail_interval_minutes),
                                   mails_per_hour=sub.mails_per_hour)
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

    async def _spend(self, form: FormData, purpose: str, token: str = "") -> bool:
        """Spend the form's token as its POST is about to succeed; False when it was spent
        before (a replayed form, a double click): the caller shows the form again."""
        data = self.forms.check(str(form.get("form_token") or ""), purpose, token)
        if data is None or not isinstance(data.get("n"), str):
            return False
        at = now()
        fresh = await run_in_threadpool(spent.spend, self.engine, data["n"],
                                        at + timedelta(seconds=forms.FORM_MAX_AGE), at)
        if not fresh:
            metrics.page_refused("form_spent")
        return fresh

    @staticmethod
    def _large(request: Request, form: FormData | None, sub: Subscriber | None = None) -> bool:
        size = str(form.get("size") or "") if form is not None else None
        return wants_large(request, size, sub is not None and sub.text_size == "large")


