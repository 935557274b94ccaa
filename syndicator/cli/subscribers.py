"""`syndicator subscribers ...`: add, list, remove, import, export, consent, reset-links."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from syndicator.cli.app import App, handle_errors, pass_app


@click.group()
def subscribers() -> None:
    """Manage subscribers."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", default="", help="Agency or person name.")
@click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]),
              default="daily", show_default=True)
@click.option("--category", "categories", multiple=True,
              help="Category name or slug; repeat for several; none = all.")
@click.option("--large-text", is_flag=True, help="Send the large-text variant.")
@pass_app
@handle_errors
def subscribers_add(app: App, email: str, name: str, frequency: str,
                    categories: tuple[str, ...], large_text: bool) -> None:
    """Add an active subscriber."""
    from syndicator.subscribers import operator

    s = operator.add(app.state, email, name, frequency, categories,
                    "large" if large_text else "standard")
    click.echo(f"added {s.email} ({s.frequency}, {s.text_size}, "
               f"{', '.join(s.categories) or 'all categories'})")


@subscribers.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
@pass_app
@handle_errors
def subscribers_list(app: App, as_json: bool) -> None:
    """List subscribers."""
    from syndicator.subscribers import operator

    rows = [operator.as_dict(s) for s in operator.list_all(app.state)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        cats = "; ".join(r["categories"]) or "all"
        click.echo(f"{r['email']}\t{r['status']}\t{r['frequency']}\t{r['text_size']}\t"
                   f"{cats}\t{r['name']}")


@subscribers.command("remove")
@click.argument("email")
@pass_app
@handle_errors
def subscribers_remove(app: App, email: str) -> None:
    """Unsubscribe an address (its consent history stays)."""
    from syndicator.subscribers import operator

    s = operator.remove(app.state, email)
    click.echo(f"{s.email} is unsubscribed")


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
@handle_errors
def subscribers_import(app: App, file: Path) -> None:
    """Import a CSV (email,name,frequency,categories,text_size): all rows or none."""
    from syndicator.errors import UsageError
    from syndicator.subscribers import operator

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{file} is not UTF-8 text (save the CSV as UTF-8)") from None
    report = operator.import_csv(app.state, text)
    click.echo(f"imported: {report.created} added, {report.updated} updated, "
               f"{len(report.skipped)} skipped")
    for note in report.skipped:
        click.echo(f"  {note}", err=True)


@subscribers.command("export")
@click.option("--all", "everyone", is_flag=True,
              help="Also pending, unsubscribed and bounced ones, with a status column.")
@pass_app
@handle_errors
def subscribers_export(app: App, everyone: bool) -> None:
    """Write the active subscribers as CSV on stdout (the columns `import` reads)."""
    from syndicator.subscribers import operator

    operator.export_csv(app.state, sys.stdout, everyone=everyone)


@subscribers.command("consent")
@click.argument("email")
@pass_app
@handle_errors
def subscribers_consent(app: App, email: str) -> None:
    """Print one subscriber's whole consent history as JSON (what, when, how)."""
    from syndicator.subscribers import operator

    record = operator.consent_record(app.state, email)
    click.echo(json.dumps(record, ensure_ascii=False, indent=2))


@subscribers.command("reset-links")
@click.argument("email")
@pass_app
@handle_errors
def subscribers_reset_links(app: App, email: str) -> None:
    """Retire every link mailed to an address so far (preferences, unsubscribe, confirm)."""
    from syndicator.subscribers import operator

    s = operator.reset_links(app.state, email)
    click.echo(f"links of {s.email} reset: earlier links no longer work "
               "(fresh ones come with the next mail, or from /manage)")
