"""``monitor db``: the store's schema migrations, and a home for its housekeeping commands.

Opening a Store already migrates, so ``monitor db upgrade`` is for doing it on purpose: before
starting several replicas, in a deploy step, or to see what a new version changes. Commands get
the store URL from ``--db`` or else the config's ``database_url``, as ``monitor feeds`` does;
a new command takes ``@DB_OPTION`` and ``@click.pass_obj`` and calls ``store_url(obj, db)``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.engine import Engine

from monitor.cli.context import DB_OPTION
from monitor.store import migrate, schema
from monitor.store.db import open_engine, opening


def store_url(obj: Any, db: str | None) -> str:
    """``--db`` if given, else the config's; the config is loaded only when needed."""
    return db or obj.settings.database_url


@contextmanager
def engine_for(obj: Any, db: str | None) -> Iterator[Engine]:
    """An engine that has not migrated anything (a Store would have, on opening).

    What the database refuses is a StoreError naming the store, as when a Store opens.
    """
    url = store_url(obj, db)
    engine = open_engine(url)
    try:
        with opening(url):
            yield engine
    finally:
        engine.dispose()


@contextmanager
def quiet_migrations() -> Iterator[None]:
    """Leave the migrations' log lines out where the command prints them itself (``db
    upgrade``) or the store is a throwaway one (``replay``): the daemon still logs them."""
    logger = logging.getLogger(migrate.__name__)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@click.group()
def db() -> None:
    """The store: schema migrations and housekeeping."""


@db.command("upgrade")
@DB_OPTION
@click.pass_obj
def db_upgrade(obj: Any, db: str | None) -> None:
    """Migrate the schema to head, printing each revision applied.

    \b
    Example:
        monitor db upgrade --db postgresql+psycopg://monitor@db.internal/monitor
    """
    with engine_for(obj, db) as engine, quiet_migrations():
        applied = migrate.upgrade(engine)
    if not applied:
        click.echo(f"already at {schema.head()}")
        return
    for revision in applied:
        click.echo(f"applied {revision}: {schema.describe(revision)}")


@db.command("current")
@DB_OPTION
@click.pass_obj
def db_current(obj: Any, db: str | None) -> None:
    """Print the schema revision and whether it is head.

    Head is the newest revision this version of monitor knows; ``upgrade`` brings the store
    there, and so does opening it from any other command.
    """
    with engine_for(obj, db) as engine:
        revision = schema.current(engine)
    head = schema.head()
    if revision == head:
        click.echo(f"{revision} (head)")
    elif revision is None:
        click.echo(f"none (head is {head}; `monitor db upgrade` creates or adopts the tables)")
    else:
        click.echo(f"{revision} (head is {head}; `monitor db upgrade` applies the rest)")


@db.command("prune")
@click.option(
    "--older-than",
    "older_than",
    default="90d",
    show_default=True,
    help="Delete articles fetched and dated longer ago than this (e.g. 30d, 12w).",
)
@click.option("--dry-run", is_flag=True, help="Count what would go; delete nothing.")
@DB_OPTION
@click.pass_obj
def db_prune(obj: Any, older_than: str, dry_run: bool, db: str | None) -> None:
    """Delete old articles that no alert cites; alerts and the articles they cite stay.

    A deleted article's guid, link and word hash are kept, so a feed that still lists it
    does not bring it back as news. The daemon runs this itself every
    ``retention.interval`` with ``retention.articles`` as the age.

    \b
    Example:
        monitor db prune --older-than 90d --dry-run
    """
    from monitor.service.retention import prune
    from monitor.store import Store
    from monitor.util.durations import parse_duration

    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    store = Store(store_url(obj, db), create=False)
    try:
        report = prune(store, age, dry_run=dry_run)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    finally:
        store.close()
    click.echo(report.summary(dry_run))
