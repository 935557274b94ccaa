"""Drives the operator's console in-process: accounts with a cheap hasher, signed-in clients,
the CSRF token of a page, the audit log."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import starlette.exceptions
from argon2 import PasswordHasher, profiles
from starlette.applications import Starlette

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2; httpx still works the same
    warnings.simplefilter("ignore", getattr(starlette.exceptions, "StarletteDeprecationWarning",
                                            DeprecationWarning))
    from starlette.testclient import TestClient

from syndicator.config.settings import Settings
from syndicator.console import accounts, passwords
from syndicator.console.audit import cli_actor
from syndicator.state.schema import audit_log
from syndicator.telemetry.health import Health
from syndicator.web import admin

PASSWORD = "mật khẩu đủ dài 2026"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def cheap_hashing() -> None:
    """RFC 9106's test profile: the same code path, milliseconds instead of half a second."""
    passwords.use_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


def settings(tmp: Any, **sections: Any) -> Settings:
    config: dict[str, Any] = {"mail": {"outbox_dir": str(tmp / "mail")},
                              "security": {"secret_key": "test-secret-0123456789abcdef-0123456789"}}
    for name, values in sections.items():
        config[name] = config.get(name, {}) | values if isinstance(values, dict) else values
    return Settings(**config)


@dataclass
class Console:
    """One console app on a state database; `client()` gives a browser-like client."""

    engine: sa.Engine
    settings: Settings
    app: Starlette

    def client(self, client_ip: str = "testclient") -> TestClient:
        base = self.settings.base_url
        return TestClient(self.app, base_url=base, follow_redirects=False,
                          client=(client_ip, 50000))

    def account(self, email: str, role: str, password: str = PASSWORD) -> None:
        accounts.add_user(self.engine, email, role, password, cli_actor())

    def sign_in(self, email: str, password: str = PASSWORD, client: TestClient | None = None,
                ) -> TestClient:
        c = client or self.client()
        r = self.post_login(c, email, password)
        assert r.status_code == 303, r.text[:500]
        return c

    @staticmethod
    def post_login(c: TestClient, email: str, password: str, next_: str = "/admin/") -> Any:
        page = c.get("/admin/login")
        token = FORM_TOKEN.search(page.text)
        assert token, page.text[:300]
        return c.post("/admin/login", data={"form_token": token.group(1), "email": email,
                                            "password": password, "next": next_})

    @staticmethod
    def csrf(c: TestClient, path: str = "/admin/") -> str:
        found = CSRF.search(c.get(path).text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def actions(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(audit_log).order_by(audit_log.c.id)))


def make_console(engine: sa.Engine, tmp: Any, **sections: Any) -> Console:
    cheap_hashing()
    s = settings(tmp, **sections)
    app = Starlette(routes=admin.routes(s, engine, Health()))
    return Console(engine, s, app)
