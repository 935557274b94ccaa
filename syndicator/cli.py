"""The command line: parses arguments, loads the config once, calls the services."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from syndicator import logs
from syndicator.errors import SyndicatorError
from syndicator.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class App:
    """What every command needs, built lazily from the one loaded config."""

    def __init__(self, config_path: str | None) -> None:
        self._config_path = config_path
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self._config_path)
            logs.configure(self._settings.log.level, self._settings.log.format)
        return self._settings

    @functools.cached_property
    def state(self) -> Any:
        from syndicator.state.db import check_current, state_engine

        engine = state_engine(self.settings)
        check_current(engine)
        return engine


pass_app = click.make_pass_decorator(App)


def handle_errors(fn: F) -> F:
    """A user error is one line on stderr and its exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SyndicatorError as exc:
            click.echo(f"syndicator: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: $SYNDICATOR_CONFIG or ./config.yaml).")
@click.version_option(package_name="syndicator")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Bulletins of the portal as Atom/RSS/JSON feeds and email digests."""
    ctx.obj = App(config_path)


@cli.group()
def db() -> None:
    """Our own state database."""


@db.command("upgrade")
@pass_app
@handle_errors
def db_upgrade(app: App) -> None:
    """Create or migrate our tables."""
    from syndicator.state.db import state_engine, upgrade

    revision = upgrade(state_engine(app.settings))
    click.echo(f"state database at revision {revision}")


@cli.command()
@pass_app
@handle_errors
def demo(app: App) -> None:
    """Seed the embedded portal database and demo subscribers (idempotent)."""
    from syndicator.demo.seed import seed
    from syndicator.state.db import state_engine, upgrade

    engine = state_engine(app.settings)
    upgrade(engine)
    report = seed(app.settings, engine)
    click.echo(f"demo: {report.bulletins_added} bulletins and "
               f"{report.subscribers_added} subscribers added")


@cli.command()
@pass_app
@handle_errors
def poll(app: App) -> None:
    """Ingest new, changed and withdrawn bulletins once."""
    from syndicator.services import poll_once

    report = poll_once(app.settings, app.state)
    click.echo(f"poll: {len(report.new)} new, {len(report.changed)} changed, "
               f"{len(report.withdrawn)} withdrawn, {len(report.archived)} archived "
               f"(not announced), {len(report.errors)} rows skipped")
    for err in report.errors:
        click.echo(f"  skipped {err}", err=True)


@cli.group()
def feeds() -> None:
    """Atom, RSS and JSON feeds."""


@feeds.command("build")
@pass_app
@handle_errors
def feeds_build(app: App) -> None:
    """Write every feed into feeds.output_dir (only files whose bytes changed)."""
    from syndicator.feeds.service import build_all

    report = build_all(app.settings, app.state)
    click.echo(f"feeds: {len(report.written)} written, {len(report.unchanged)} unchanged, "
               f"{len(report.removed)} removed in {app.settings.feeds.output_dir}")


@cli.command()
@pass_app
@handle_errors
def check(app: App) -> None:
    """Validate the config and reach the databases."""
    from syndicator.services import check_all

    failures = 0
    for name, ok, detail in check_all(app.settings):
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        failures += not ok
    sys.exit(1 if failures else 0)


@cli.command()
@pass_app
@handle_errors
def run(app: App) -> None:
    """The daemon: scheduler and HTTP server, until SIGTERM or SIGINT."""
    settings = app.settings
    logs.configure(settings.log.level, settings.log.format, stream=sys.stdout)
    from syndicator.daemon import run as run_daemon

    try:
        run_daemon(settings)
    except KeyboardInterrupt:  # Ctrl-C before the daemon's own handler is in place
        click.echo("syndicator: interrupted during start", err=True)


@cli.command()
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for an answer.")
@pass_app
@handle_errors
def healthcheck(app: App, timeout: float) -> None:
    """Exit 0 when the local daemon answers ready (for a container HEALTHCHECK)."""
    from syndicator.healthcheck import probe

    ok, detail = probe(app.settings.http.host, app.settings.http.port, timeout)
    click.echo(("ready: " if ok else "not ready: ") + detail, err=not ok)
    sys.exit(0 if ok else 1)


@cli.group()
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
    from syndicator.subscribers import service

    s = service.add(app.state, email, name, frequency, categories,
                    "large" if large_text else "standard")
    click.echo(f"added {s.email} ({s.frequency}, {s.text_size}, "
               f"{', '.join(s.categories) or 'all categories'})")


@subscribers.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
@pass_app
@handle_errors
def subscribers_list(app: App, as_json: bool) -> None:
    """List subscribers."""
    from syndicator.subscribers import service

    rows = [service.as_dict(s) for s in service.list_all(app.state)]
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
    from syndicator.subscribers import service

    s = service.remove(app.state, email)
    click.echo(f"{s.email} is unsubscribed")


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
@handle_errors
def subscribers_import(app: App, file: Path) -> None:
    """Import a CSV (email,name,frequency,categories,text_size): all rows or none."""
    from syndicator.errors import UsageError
    from syndicator.subscribers import service

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{file} is not UTF-8 text (save the CSV as UTF-8)") from None
    report = service.import_csv(app.state, text)
    click.echo(f"imported: {report.created} added, {report.updated} updated, "
               f"{len(report.skipped)} skipped")
    for note in report.skipped:
        click.echo(f"  {note}", err=True)


@subscribers.command("export")
@pass_app
@handle_errors
def subscribers_export(app: App) -> None:
    """Write every subscriber as CSV on stdout."""
    from syndicator.subscribers import service

    service.export_csv(app.state, sys.stdout)


def main() -> None:
    cli(prog_name="syndicator")
