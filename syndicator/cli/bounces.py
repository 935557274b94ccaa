"""`syndicator bounces`: read one returned message (as an MTA's pipe hands it over), and list or
show what came back."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

import click
import sqlalchemy as sa
import structlog

from syndicator.cli.app import App, handle_errors, pass_app
from syndicator.errors import ConfigError, SyndicatorError, UsageError

log = structlog.get_logger(__name__)
# sysexits.h, as Postfix's pipe(8) reads them: 75 and 78 make it keep the message and retry;
# any other failure status makes it bounce the message (to a null sender: lost).
EX_TEMPFAIL = 75
EX_CONFIG = 78
KINDS = ("hard", "soft", "delivered", "complaint", "unsubscribe", "auto_reply", "unknown")


@click.group()
def bounces() -> None:
    """What comes back: late bounces, complaints, unsubscribe requests, replies."""


@bounces.command("read")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sysexits", is_flag=True,
              help="Exit 75 (EX_TEMPFAIL) when the message could not be recorded and 78 "
                   "(EX_CONFIG) on a configuration error, so that an MTA's pipe keeps it and "
                   "tries again (Postfix bounces on any other status).")
@pass_app
def read(app: App, file: Path | None, sysexits: bool) -> None:
    """Handle one RFC 5322 message that came back (FILE, or stdin)."""
    try:
        _read(app, file)
    except (ConfigError, UsageError) as exc:
        _fail(str(exc), EX_CONFIG if sysexits else exc.exit_code)
    except (SyndicatorError, sa.exc.SQLAlchemyError, OSError) as exc:
        _fail(_reason(exc), EX_TEMPFAIL if sysexits else 1)
    except Exception:  # noqa: BLE001 - a bug must not make the MTA drop the message
        log.exception("bounces.read_crashed")
        _fail("unexpected error (logged); the message was not recorded",
              EX_TEMPFAIL if sysexits else 1)


def _read(app: App, file: Path | None) -> None:
    from syndicator.bounces.classify import read_message
    from syndicator.bounces.intake import Intake

    settings, engine = app.settings, app.state
    raw = _raw(file, settings.bounces.max_message_bytes, read_message)
    taken = Intake.configured(settings, engine).take(raw)
    r = taken.report
    if taken.duplicate:
        click.echo(f"bounces: already recorded ({r.kind.value}, key {r.key[:16]}): nothing to do")
        return
    click.echo(f"bounces: {r.kind.value} ({r.reason}) -> {taken.effect}, record {taken.record_id}"
               + (f", delivery {r.delivery_id}" if r.delivery_id else ""))
    if taken.effect == "forward" and taken.record_id is not None:
        _forward(app, taken.record_id)


def _raw(file: Path | None, limit: int, read: Any) -> bytes:
    if file is None:
        stream: BinaryIO = sys.stdin.buffer
        return bytes(read(stream, limit))
    try:
        with file.open("rb") as fh:
            return bytes(read(fh, limit))
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file") from None


def _forward(app: App, record_id: int) -> None:
    """Recorded already: a failed forward is retried by the daemon, and this still exits 0."""
    from syndicator.delivery.forward import forward_due

    try:
        forward_due(app.settings, app.state, [record_id])
    except Exception as exc:  # noqa: BLE001 - recorded; the daemon's returns job retries
        log.warning("bounces.forward_deferred", record_id=record_id, error=_reason(exc))


@bounces.command("list")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
@pass_app
@handle_errors
def listing(app: App, kind: str | None, limit: int, as_json: bool) -> None:
    """What came back, newest first: kind, what it did, what it was tied to."""
    from syndicator.state import returned

    with app.state.connect() as conn:
        rows = [_plain(r) for r in returned.listing(conn, kind, limit)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        detail = r["detail"] or {}
        click.echo(f"{r['id']}\t{r['received_at']}\t{r['kind']}\t{r['effect']}\t"
                   f"{r['tied_by'] or '-'}\t{r['delivery_id'] or '-'}\t"
                   f"{detail.get('status') or ''}\t{detail.get('subject') or ''}")


@bounces.command("show")
@click.argument("record_id", type=int)
@pass_app
@handle_errors
def show(app: App, record_id: int) -> None:
    """Write the bytes kept of one returned message (unknown and refused ones) to stdout."""
    from syndicator.state import returned

    with app.state.connect() as conn:
        exists, data = returned.kept_bytes(conn, record_id)
    if not exists:
        raise UsageError(f"no returned message with record {record_id}")
    if data is None:
        raise UsageError(f"record {record_id}: its bytes were not kept (only unknown and "
                         "refused messages are)")
    sys.stdout.buffer.write(data)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def _fail(message: str, code: int) -> None:
    click.echo(f"syndicator: {message}", err=True)
    sys.exit(code)


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
