"""The `console` settings section: operator sessions and how many failed sign-ins pass."""

from __future__ import annotations

from pydantic import Field

from syndicator.config.sections import Section


class ConsoleSettings(Section):
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=24 * 30)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_client: int = Field(default=20, ge=1)
    page_size: int = Field(default=50, ge=10, le=500)
