"""Drives the subscriber pages in-process: forms with their tokens, mailed links, DB snapshots."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import starlette.exceptions
from starlette.applications import Starlette

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2; httpx still works the same
    warnings.simplefilter("ignore", getattr(starlette.exceptions, "StarletteDeprecationWarning",
                                            DeprecationWarning))
    from starlette.testclient import TestClient

from syndicator.config.settings import Settings
from syndicator.state.schema import consent_events, subscribers
from syndicator.web import pages

BASE = "http://127.0.0.1:8080"
LINK = re.compile(r"http://127\.0\.0\.1:8080/(?:confirm|preferences|unsubscribe)/[A-Za-z0-9_.\-]+")
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = FORM_TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def main_text(html: str) -> str:
    """The <main> element's text, tags removed and whitespace folded."""
    found = re.search(r"<main.*?</main>", html, re.S)
    assert found
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))).strip()


@dataclass
class Site:
    """The pages of one app on a state database, with the file outbox it mails into."""

    client: TestClient
    engine: sa.Engine
    outbox: Path
    settings: Settings

    def subscribe(self, address: str, **fields: Any) -> Any:
        token = form_token(self.client.get("/subscribe").text)
        data = {"form_token": token, "email": address, "frequency": "daily",
                "text_size": "standard", "consent": "1", "size": "standard"} | fields
        return self.client.post("/subscribe", data={k: v for k, v in data.items()
                                                     if v is not None})

    def request_manage(self, address: str) -> Any:
        token = form_token(self.client.get("/manage").text)
        return self.client.post("/manage", data={"form_token": token, "email": address})

    def mails(self, to: str | None = None) -> list[email.message.EmailMessage]:
        """What reached the file outbox: the pages queue mail, a sending round delivers it
        (in the daemon, the page wakes the sender at once)."""
        self.deliver()
        out = []
        for path in sorted(self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to is None or to.lower() in str(msg["To"]).lower():
                out.append(msg)
        return out

    def deliver(self) -> Any:
        from syndicator.delivery.send import deliver_due

        return asyncio.run(deliver_due(self.settings, self.engine, asyncio.Event()))

    def links(self, msg: email.message.EmailMessage) -> list[str]:
        """Personal links of a mail as paths (text part: every link a person can click)."""
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        found = dict.fromkeys(LINK.findall(text) + LINK.findall(html))
        return [u.removeprefix(BASE) for u in found]

    def link(self, msg: email.message.EmailMessage, kind: str) -> str:
        return next(p for p in self.links(msg) if p.startswith(f"/{kind}/"))

    def mailed_long_ago(self) -> None:
        """Every consent event moved to 2000: each address may be mailed again at once."""
        with self.engine.begin() as conn:
            conn.execute(consent_events.update().values(at=datetime(2000, 1, 1,
                                                                    tzinfo=UTC)))

    def post_page(self, path: str, **data: str) -> Any:
        token = form_token(self.client.get(path).text)
        return self.client.post(path, data={"form_token": token} | data)

    def snapshot(self) -> tuple[list[Any], int]:
        with self.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(sa.select(subscribers)
                                                   .order_by(subscribers.c.id))]
            events = conn.scalar(sa.select(sa.func.count()).select_from(consent_events))
        return rows, int(events or 0)

    def subscriber(self, address: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(subscribers).where(
                subscribers.c.email_key == address.casefold())).first()

    def events(self, address: str) -> list[str]:
        row = self.subscriber(address)
        with self.engine.connect() as conn:
            return list(conn.scalars(sa.select(consent_events.c.event).where(
                consent_events.c.subscriber_id == row.id).order_by(consent_events.c.id)))


def make_site(engine: sa.Engine, tmp: Path, **settings: Any) -> Site:
    outbox = tmp / "mail"
    config = {"mail": {"outbox_dir": str(outbox)},
              "security": {"secret_key": "test-secret-0123456789abcdef-0123456789"}}
    for section, values in settings.items():
        config[section] = config.get(section, {}) | values
    s = Settings(**config)
    app = Starlette(routes=pages.routes(s, engine))
    return Site(TestClient(app, raise_server_exceptions=True), engine, outbox, s)
