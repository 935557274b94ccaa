"""Source verbs: the portal rows skipped now."""

from __future__ import annotations

import json

import click

from syndicator.cli.app import App, handle_errors, pass_app


@click.group()
def source() -> None:
    """The portal's database, as ingest reads it."""


@source.command("problems")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
@pass_app
@handle_errors
def problems(app: App, as_json: bool) -> None:
    """Portal rows skipped now (unreadable, uncleanable, or sharing an id)."""
    from syndicator.state import problems as store

    with app.state.connect() as conn:
        found = store.current(conn)
    if as_json:
        click.echo(json.dumps([{
            "source_id": p.source_id or None, "field": p.field, "reason": p.reason,
            "problem": p.problem, "first_seen_at": p.first_seen_at.isoformat(),
            "last_seen_at": p.last_seen_at.isoformat()} for p in found], ensure_ascii=False))
        return
    for p in found:
        seen = f"{p.first_seen_at:%Y-%m-%d %H:%M}Z .. {p.last_seen_at:%Y-%m-%d %H:%M}Z"
        click.echo(f"{p.source_id or '(no id)'}\t{p.field}\t{p.reason}\t{p.problem}\t{seen}")
    click.echo(f"{len(found)} portal row(s) skipped now", err=True)
