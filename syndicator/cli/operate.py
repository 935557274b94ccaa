"""Operator verbs: db upgrade, demo, poll, feeds build, check, run and healthcheck."""

from __future__ import annotations

import sys

import click

from syndicator.cli.app import App, handle_errors, pass_app
from syndicator.telemetry import logs


@click.group()
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


@click.command()
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


@click.command()
@pass_app
@handle_errors
def poll(app: App) -> None:
    """Ingest new, changed and withdrawn bulletins once."""
    from syndicator.runtime.poll import poll_once

    report = poll_once(app.settings, app.state)
    click.echo(f"poll: {len(report.new)} new, {len(report.changed)} changed, "
               f"{len(report.withdrawn)} withdrawn, {len(report.archived)} archived "
               f"(not announced), {len(report.errors)} rows skipped")
    for err in report.errors:
        click.echo(f"  skipped {err}", err=True)


@click.group()
def feeds() -> None:
    """Atom, RSS and JSON feeds."""


@feeds.command("build")
@pass_app
@handle_errors
def feeds_build(app: App) -> None:
    """Write every feed into feeds.output_dir (only files whose bytes changed)."""
    from syndicator.feeds.directory import build_all

    report = build_all(app.settings, app.state)
    click.echo(f"feeds: {len(report.written)} written, {len(report.unchanged)} unchanged, "
               f"{len(report.removed)} removed in {app.settings.feeds.output_dir}")


@click.command()
@pass_app
@handle_errors
def check(app: App) -> None:
    """Validate the config and reach the databases."""
    from syndicator.runtime.preflight import check_all

    failures = 0
    for name, ok, detail in check_all(app.settings):
        click.echo(f"{'ok  ' if ok else 'FAIL'} {name}: {logs.scrub(detail)}")
        failures += not ok
    sys.exit(1 if failures else 0)


@click.command()
@pass_app
@handle_errors
def run(app: App) -> None:
    """The daemon: scheduler and HTTP server, until SIGTERM or SIGINT."""
    settings = app.settings
    logs.configure(settings.log.level, settings.log.format, stream=sys.stdout)
    from syndicator.runtime.daemon import run as run_daemon

    try:
        run_daemon(settings)
    except KeyboardInterrupt:  # Ctrl-C before the daemon's own handler is in place
        click.echo("syndicator: interrupted during start", err=True)


@click.command()
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for an answer.")
@pass_app
@handle_errors
def healthcheck(app: App, timeout: float) -> None:
    """Exit 0 when the local daemon answers ready (for a container HEALTHCHECK)."""
    from syndicator.runtime.probe import probe

    ok, detail = probe(app.settings.http.host, app.settings.http.port, timeout)
    click.echo(("ready: " if ok else "not ready: ") + detail, err=not ok)
    sys.exit(0 if ok else 1)
