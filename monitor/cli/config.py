"""``monitor config``: the effective configuration, secrets masked."""

from __future__ import annotations

import click
import yaml
from sqlalchemy.engine import make_url

from monitor.cli.context import Context


@click.group("config")
def config_group() -> None:
    """The effective configuration."""


@config_group.command("show")
@click.pass_obj
def config_show(ctx: Context) -> None:
    """Print the effective config (defaults < file < environment) as YAML, secrets redacted.

    Secrets are printed as "**********"; the names of the variables and files they come
    from are shown, since those are not secret.
    """
    data = ctx.settings.model_dump(mode="json", by_alias=True)
    # A database URL may carry a password: user:***@host.
    data["database_url"] = make_url(data["database_url"]).render_as_string(hide_password=True)
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
