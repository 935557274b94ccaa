"""Who may do what in the console (pure): three roles, each allowed what the one below is."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("viewer", "editor", "admin")
# What an action needs: reading pages, changing subscribers, reading the audit log.
VIEW, EDIT, ADMIN = "viewer", "editor", "admin"


def allowed(role: str, needs: str) -> bool:
    """True when `role` is at least `needs` (an unknown role is allowed nothing)."""
    if role not in ROLES or needs not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needs)


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where: an account on the console, or the command line."""

    account_id: int | None
    email: str
    role: str
    client: str

    def can(self, needs: str) -> bool:
        return allowed(self.role, needs)
