"""`syndicator admin ...`: the console's accounts (add-user, set-password, set-role,
disable-user, enable-user, list-users)."""

from __future__ import annotations

import json
import sys

import click

from syndicator.cli.app import App, handle_errors, pass_app

ROLE = click.Choice(["viewer", "editor", "admin"])


@click.group()
def admin() -> None:
    """Accounts of the operator's console (/admin)."""


def _password(from_stdin: bool) -> str:
    """From stdin (one line, for scripts) or a hidden prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return value


@admin.command("add-user")
@click.argument("email")
@click.option("--role", type=ROLE, required=True,
              help="viewer reads; editor also changes subscribers; admin also reads the audit "
                   "log and the accounts.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_app
@handle_errors
def add_user(app: App, email: str, role: str, password_stdin: bool) -> None:
    """Create an account (the first one turns the console on)."""
    from syndicator.console import accounts
    from syndicator.console.audit import cli_actor

    account = accounts.add_user(app.state, email, role, _password(password_stdin), cli_actor())
    click.echo(f"account {account.email} created ({account.role}); sign in at "
               f"{app.settings.base_url}/admin/login")


@admin.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_app
@handle_errors
def set_password(app: App, email: str, password_stdin: bool) -> None:
    """Give an account a new password; its open sessions end."""
    from syndicator.console import accounts
    from syndicator.console.audit import cli_actor

    account = accounts.set_password(app.state, email, _password(password_stdin), cli_actor())
    click.echo(f"password of {account.email} changed; its sessions have ended")


@admin.command("set-role")
@click.argument("email")
@click.option("--role", type=ROLE, required=True)
@pass_app
@handle_errors
def set_role(app: App, email: str, role: str) -> None:
    """Change an account's role."""
    from syndicator.console import accounts
    from syndicator.console.audit import cli_actor

    account = accounts.set_role(app.state, email, role, cli_actor())
    click.echo(f"{account.email} is now {account.role}")


@admin.command("disable-user")
@click.argument("email")
@pass_app
@handle_errors
def disable_user(app: App, email: str) -> None:
    """Lock an account out; its open sessions end at once."""
    from syndicator.console import accounts
    from syndicator.console.audit import cli_actor

    account = accounts.set_active(app.state, email, False, cli_actor())
    click.echo(f"{account.email} is disabled")


@admin.command("enable-user")
@click.argument("email")
@pass_app
@handle_errors
def enable_user(app: App, email: str) -> None:
    """Let a disabled account sign in again."""
    from syndicator.console import accounts
    from syndicator.console.audit import cli_actor

    account = accounts.set_active(app.state, email, True, cli_actor())
    click.echo(f"{account.email} is enabled")


@admin.command("list-users")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
@pass_app
@handle_errors
def list_users(app: App, as_json: bool) -> None:
    """The accounts, their roles and last sign-in."""
    from syndicator.console import accounts

    rows = [{"email": a.email, "role": a.role, "active": a.active,
             "created_at": a.created_at.isoformat(),
             "last_sign_in_at": a.last_sign_in_at.isoformat() if a.last_sign_in_at else None}
            for a in accounts.list_users(app.state)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['email']}\t{r['role']}\t{'active' if r['active'] else 'disabled'}\t"
                   f"{r['last_sign_in_at'] or 'never signed in'}")
