"""The command line: parses arguments, loads the config once, calls the services."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from syndicator import logs
from syndicator.cli_subscribers import subscribers
from syndicator.cli_support import App, handle_errors, pass_app


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
def digest() -> None:
    """Digest runs."""


@digest.command("run")
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), required=True)
@click.option("--now", "now_text", metavar="ISO8601",
              help="Pretend it is this moment (naive = in `timezone`); default: now.")
@pass_app
@handle_errors
def digest_run(app: App, frequency: str, now_text: str | None) -> None:
    """Compose the last complete period ending at or before now, then deliver it."""
    from syndicator.delivery import service

    run = service.run_digest(app.settings, app.state, frequency, _parse_now(now_text),
                             wait_seconds=120)
    click.echo(f"digest run {run.run_id} ({run.frequency} {run.period_start.isoformat()} .. "
               f"{run.period_end.isoformat()}): "
               f"{'created' if run.created else 'already existed'}, {run.status}"
               + (f", {run.deliveries} deliveries queued" if run.created else ""))
    try:
        _deliver(app, retry_now=False)
    except service.SenderBusy as exc:
        # The run is durable; the process that holds the sender lease will send it.
        click.echo(f"digest run {run.run_id} is queued; not sending now: {exc}")


@cli.command()
@click.option("--retry-now", is_flag=True, help="Ignore backoff delays of failed attempts.")
@pass_app
@handle_errors
def deliver(app: App, retry_now: bool) -> None:
    """Send what is due in the outbox."""
    _deliver(app, retry_now)


def _deliver(app: App, retry_now: bool) -> None:
    """Send until nothing is due; SIGTERM/SIGINT stop claiming and finish what is in flight."""
    import asyncio
    import signal

    from syndicator.delivery import service

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await service.deliver_due(app.settings, app.state, stop, retry_now)

    r = asyncio.run(main())
    click.echo(f"deliver: {r.sent} sent, {r.retried} to retry, {r.bounced} bounced, "
               f"{r.failed} failed, {r.skipped} skipped"
               + (", stopped early" if r.stopped else "")
               + (f"; mail server unreachable: {r.unreachable}" if r.unreachable else ""))


def _parse_now(text: str | None) -> Any:
    from datetime import datetime, timezone

    from syndicator.errors import UsageError

    if text is None:
        return datetime.now(timezone.utc)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now: {text!r} is not an ISO 8601 time "
                         "(e.g. 2026-11-25T07:00:00+07:00)") from None


@cli.command()
@click.option("--run", "run_id", type=int, help="Only this run.")
@click.option("--email", help="Only this address.")
@click.option("--limit", type=int, default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
@pass_app
@handle_errors
def deliveries(app: App, run_id: int | None, email: str | None, limit: int,
               as_json: bool) -> None:
    """What was sent: status, attempts, last SMTP reply, Message-ID, sent time."""
    from syndicator.delivery.proof import listing

    rows = listing(app.state, run_id, email, limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['id']}\trun {r['run_id']} {r['frequency']}\t{r['email']}\t"
                   f"{r['status']}\t{r['attempts']}x\t{r['sent_at'] or '-'}\t"
                   f"{r['message_id'] or '-'}\t{r['last_code'] or ''} {r['last_reply'] or ''}")


@cli.command()
@click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]),
              required=True, help="Which digest to render.")
@click.option("--large-text", is_flag=True, help="Render the large-text variant.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write FILE.html or FILE.eml (default: HTML on stdout).")
@click.option("--now", "now", metavar="ISO8601",
              help="Pretend it is this time (naive = the configured time zone).")
@pass_app
@handle_errors
def preview(app: App, frequency: str, large_text: bool, out: Path | None,
            now: str | None) -> None:
    """Render a digest from the state database without sending it."""
    from syndicator.digests import preview as previews
    from syndicator.digests.composer import DigestComposer
    from syndicator.errors import SyndicatorError, UsageError

    if out is not None and out.suffix.lower() not in (".html", ".htm", ".eml"):
        raise UsageError(f"--out {out}: the name must end in .html or .eml")
    if out is not None and not out.absolute().parent.is_dir():
        raise UsageError(f"--out {out}: the directory {out.absolute().parent} does not exist")
    when = previews.parse_now(now, app.settings.tz) if now else None
    composer = DigestComposer(app.settings)
    shown = previews.build(app.settings, app.state, composer, frequency, large_text, when)
    if shown.fallback:
        click.echo(f"preview: no bulletins were first seen in the last {frequency} period; "
                   f"showing the {len(shown.digest.bulletins)} newest public ones", err=True)
    if not shown.digest.bulletins:
        raise UsageError("there are no public bulletins yet (run `syndicator poll` first)")
    data = previews.render(composer, shown,
                           as_eml=out is not None and out.suffix.lower() == ".eml")
    if out is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise SyndicatorError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    click.echo(f"preview: wrote {out} ({len(shown.digest.bulletins)} bulletins, "
               f"{'large' if large_text else 'standard'} text)", err=True)


cli.add_command(subscribers)


def main() -> None:
    cli(prog_name="syndicator")
