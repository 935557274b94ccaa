"""What every command shares: the lazily built App and one-line error handling."""

from __future__ import annotations

import errno
import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import sqlalchemy as sa

from syndicator.config.loader import load_settings
from syndicator.config.secrets import secret_values
from syndicator.config.settings import Settings
from syndicator.errors import SyndicatorError
from syndicator.telemetry import logs

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
            logs.hide(secret_values(self._settings))
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
            click.echo(f"syndicator: {logs.scrub(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except sa.exc.OperationalError as exc:
            from syndicator.state.db import storage_full

            if not storage_full(exc):
                raise
            click.echo(f"syndicator: {_full_disk(exc)}", err=True)
            sys.exit(1)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            click.echo(f"syndicator: {_command()}: cannot write {exc.filename or 'a file'}: no "
                       "space left on device; nothing was lost (files are replaced whole, the "
                       "database is unchanged by the failed step). Free some space and run it "
                       "again", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _command() -> str:
    ctx = click.get_current_context(silent=True)
    return ctx.command_path.removeprefix("syndicator ").removeprefix("python -m syndicator ") \
        if ctx is not None else "syndicator"


def _full_disk(exc: sa.exc.OperationalError) -> str:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    return (f"{_command()}: the state database could not write, its disk is full ({reason}); "
            "nothing was lost: the transaction was rolled back and the database holds what it "
            "held before. Free some space and run it again")
