"""The command line: parses arguments, loads the config once, calls the use cases."""

from __future__ import annotations

import click

from syndicator.cli import admin, mail, operate
from syndicator.cli.app import App
from syndicator.cli.bounces import bounces
from syndicator.cli.source import source
from syndicator.cli.subscribers import subscribers


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: $SYNDICATOR_CONFIG or ./config.yaml).")
@click.version_option(package_name="syndicator")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Bulletins of the portal as Atom/RSS/JSON feeds and email digests."""
    ctx.obj = App(config_path)


for command in (operate.db, operate.demo, operate.poll, operate.feeds, operate.check,
                operate.run, operate.healthcheck, mail.digest, mail.deliver, mail.deliveries,
                mail.preview, subscribers, admin.admin, bounces, source):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="syndicator")
