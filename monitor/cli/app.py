"""The ``monitor`` command line: the root group, and the one place errors become one line."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from monitor import __version__
from monitor.cli import alerts as alerts_group
from monitor.cli import config as config_commands
from monitor.cli import replay as replay_command
from monitor.cli import rules as rules_group
from monitor.cli import rules_train  # noqa: F401 - adds `monitor rules train` to the group
from monitor.cli import run as run_command
from monitor.cli import silence as silence_group
from monitor.cli.channels import channels
from monitor.cli.context import Context, log
from monitor.cli.db import db as db_group
from monitor.cli.feedback import feedback
from monitor.cli.feeds import feeds
from monitor.cli.stories import stories
from monitor.errors import MonitorError, StoreError
from monitor.service.logs import setup_logging
from monitor.store.db import store_problem


class MonitorGroup(click.Group):
    """The root command: the one place a user's error becomes one line and an exit code.

    Every :class:`~monitor.errors.MonitorError` (a bad config, a rule pack with problems, a
    store that cannot be opened, ...) and any database error a command meets is printed as
    ``Error: <message>``; ``--log-level debug`` logs the traceback as well.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except MonitorError as exc:
            raise _user_error(exc) from None
        except SQLAlchemyError as exc:
            raise _user_error(StoreError(f"store: {store_problem(exc)}")) from None


def _user_error(exc: MonitorError) -> click.ClickException:
    log.debug("%s error", exc.label, exc_info=exc)
    error = click.ClickException(str(exc))
    error.exit_code = exc.exit_code
    return error


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="monitor")
@click.option(
    "--config",
    "-c",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file [default: $MONITOR_CONFIG, else config/monitor.yaml if present].",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="Log lines as readable text or one JSON object each [default: the config's "
    "log_format, else text].",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None, log_level: str, log_format: str | None) -> None:
    """Watch news feeds for reports of sanctions violations; one alert per story."""
    # Text until the settings say otherwise (log_format, MONITOR_LOG_FORMAT): see Context.
    setup_logging(log_level, "json" if log_format == "json" else "text")
    ctx.obj = Context(config, log_level, log_format)


for command in (
    run_command.run,
    run_command.status,
    run_command.healthcheck,
    replay_command.replay,
    alerts_group.alerts,
    silence_group.silence,
    rules_group.rules,
    config_commands.config_group,
    channels,
    db_group,
    feeds,
    feedback,
    stories,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="monitor")
