"""What every command shares: the settings behind ``--config``, the store, the rule pack."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from monitor.config import (
    DEFAULT_CONFIG,
    Settings,
    config_path,
    load_settings,
    sqlite_relative_to,
)
from monitor.detect.rules import Rule
from monitor.detect.rules.parse import RulesError, valid_rules
from monitor.errors import StoreError
from monitor.service.cycle import Service
from monitor.service.logs import setup_logging
from monitor.store import Store
from monitor.store.db import shown_url, store_problem

DB_OPTION = click.option("--db", help="Store URL [default: the config's database_url].")
RULES_OPTION = click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, path_type=Path),
    help="Rules folder or file [default: the config's rules_dir].",
)


log = logging.getLogger("monitor")


class Context:
    """The command line's state: the options given, and the settings read on first use."""

    def __init__(self, config: Path | None, log_level: str, log_format: str | None) -> None:
        self.config_path = config
        self.log_level = log_level
        self.log_format = log_format  # given on the command line: it wins over the config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            found = config_path(self.config_path)
            self._settings = load_settings(found)  # a ConfigError is shown by MonitorGroup
            if self.log_format is None and self._settings.log_format == "json":
                setup_logging(self.log_level, "json")
            if found is None:
                self._no_config_file(self._settings)
        return self._settings

    @contextmanager
    def session(self, db: str | None, create: bool = False) -> Iterator[Session]:
        """A session on the store ``--db`` names, else the config's, closed afterwards. Only a
        command that writes may create a store (``create``): a read-only one that finds none
        says so instead of showing an empty one."""
        store = Store(db or self.settings.database_url, create=create)
        try:
            with store.session() as session:
                yield session
        finally:
            store.close()

    @staticmethod
    def _no_config_file(settings: Settings) -> None:
        """Say which defaults a command runs on: without this, a command run from the wrong
        folder looks like an empty store or a missing rule pack."""
        store = sqlite_relative_to(settings.database_url, Path.cwd())
        log.warning(
            "no config file (no --config, $MONITOR_CONFIG unset, no %s here): using the "
            "built-in defaults: store %s, rules %s",
            DEFAULT_CONFIG,
            shown_url(store),
            settings.rules_dir,
        )


def open_service(ctx: Context, **kwargs) -> Service:
    try:
        return Service(ctx.settings, **kwargs)
    except StoreError as exc:
        log.error("%s", exc)  # the daemon's log is where an operator looks first
        raise
    except SQLAlchemyError as exc:
        url = shown_url(ctx.settings.database_url)
        first = store_problem(exc)
        log.error("cannot open the store at %s: %s", url, first)
        raise StoreError(f"cannot open the store at {url}: {first}") from None


def valid_rules_or_exit(path: Path) -> list[Rule]:
    """The rules under ``path``, or a clean exit listing every problem as file:line:col."""
    try:
        return valid_rules(path)
    except RulesError as exc:
        raise click.ClickException(str(exc)) from None
