"""Mail verbs: digest run, deliver, deliveries (the proof) and preview."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import click

from syndicator.cli.app import App, handle_errors, pass_app


@click.group()
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
    from syndicator.delivery.send import SenderBusy
    from syndicator.planning.due import run_digest
    from syndicator.runtime.clock import check_clock

    check_clock(app.settings, app.state)  # the real clock's, whatever --now says
    run = run_digest(app.settings, app.state, frequency, _parse_now(now_text),
                     wait_seconds=120)
    click.echo(f"digest run {run.run_id} ({run.frequency} {run.period_start.isoformat()} .. "
               f"{run.period_end.isoformat()}): "
               f"{'created' if run.created else 'already existed'}, {run.status}"
               + (f", {run.deliveries} deliveries queued" if run.created else ""))
    try:
        _deliver(app, retry_now=False)
    except SenderBusy as exc:
        # The run is durable; the process that holds the sender lease will send it.
        click.echo(f"digest run {run.run_id} is queued; not sending now: {exc}")


@digest.command("schedule")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The first day to show (default: today in `timezone`).")
@click.option("--days", type=click.IntRange(1, 3660), default=14, show_default=True)
@click.option("--frequency", type=click.Choice(["daily", "weekly", "all"]), default="all",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
@pass_app
@handle_errors
def digest_schedule(app: App, first: Any, days: int, frequency: str, as_json: bool) -> None:
    """The days digests go out and what each covers (the working calendar, when configured)."""
    from datetime import datetime

    from syndicator.cli import calendar_view as view
    from syndicator.planning.due import upcoming

    s, tz = app.settings, app.settings.tz
    start = first.date() if first is not None else datetime.now(tz).date()
    wanted = ("daily", "weekly") if frequency == "all" else (frequency,)
    found = {f: upcoming(s, f, start, days) for f in wanted}
    if as_json:
        click.echo(json.dumps([row for f in wanted for row in view.as_json(f, found[f], tz)],
                              ensure_ascii=False, indent=2))
        return
    for f in wanted:
        click.echo(view.heading(f, s.digests, s.timezone, len(found[f])))
        for line in view.as_text(f, found[f], tz, s.digests.working_days_only):
            click.echo(line)


@click.command()
@click.option("--retry-now", is_flag=True, help="Ignore backoff delays of failed attempts.")
@pass_app
@handle_errors
def deliver(app: App, retry_now: bool) -> None:
    """Send what is due in the outbox."""
    from syndicator.runtime.clock import check_clock

    check_clock(app.settings, app.state)  # retries a clock that ran ahead put off
    _deliver(app, retry_now)


def _deliver(app: App, retry_now: bool) -> None:
    """Send until nothing is due; SIGTERM/SIGINT stop claiming and finish what is in flight."""
    import asyncio
    import signal

    from syndicator.delivery import backlog
    from syndicator.delivery.send import deliver_due
    from syndicator.errors import WorkLeft

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await deliver_due(app.settings, app.state, stop, retry_now)

    r = asyncio.run(main())
    click.echo(f"deliver: {r.sent} sent, {r.retried} to retry, {r.bounced} bounced, "
               f"{r.failed} failed, {r.skipped} skipped"
               + (", stopped early" if r.stopped else "")
               + (f"; mail server unreachable: {r.unreachable}" if r.unreachable else ""))
    # Only this round's own retries count: rows other processes are claiming are theirs, and
    # a stop asked for by a signal is not a failure to send.
    left = backlog.waiting(app.state) if (r.retried or r.unreachable) and not r.stopped else 0
    if left:
        raise WorkLeft(f"{left} message(s) still queued for a retry "
                       f"({r.unreachable or 'the server asked to try later'}); "
                       "run `syndicator deliver` again later, or let the daemon retry")


def _parse_now(text: str | None) -> Any:
    from datetime import datetime

    from syndicator.errors import UsageError

    if text is None:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now: {text!r} is not an ISO 8601 time "
                         "(e.g. 2026-11-25T07:00:00+07:00)") from None


@click.command()
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
        what = f"run {r['run_id']} {r['frequency']}" if r["run_id"] is not None else r["kind"]
        late = (f"\tlate bounce {r['late_bounce_status'] or ''} {r['late_bounce_code'] or ''} "
                f"at {r['late_bounce_at']}: {r['late_bounce_detail'] or ''}"
                if r["late_bounce_at"] else "")
        click.echo(f"{r['id']}\t{what}\t{r['email']}\t"
                   f"{r['status']}\t{r['attempts']}x\t{r['sent_at'] or '-'}\t"
                   f"{r['message_id'] or '-'}\t{r['last_code'] or ''} {r['last_reply'] or ''}"
                   + late)


@click.command()
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
    from syndicator.compose.composer import DigestComposer
    from syndicator.errors import SyndicatorError, UsageError
    from syndicator.planning import preview as previews

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
