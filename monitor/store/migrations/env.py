"""Alembic's environment for the store: runs on the connection monitor.store.migrate hands over.

monitor.store.migrate builds the Config in code and passes an open connection (inside its
transaction, under its lock) as ``config.attributes["connection"]``, plus callbacks to hear of
each revision applied. For a developer's ``alembic`` command line, ``sqlalchemy.url`` (or
MONITOR_DATABASE_URL) names the database instead, and offline mode prints the SQL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from monitor.store import schema

config = context.config
# Every model module imported, so autogenerate compares all the tables the code defines.
target_metadata = schema.models()


def _options() -> dict:
    """What every mode configures: the models, for autogenerate and its type comparison."""
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        "on_version_apply": config.attributes.get("on_version_apply", ()),
    }


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("MONITOR_DATABASE_URL")
    if not url:
        raise RuntimeError(
            "no database: pass a connection in config.attributes['connection'], or set "
            "sqlalchemy.url or MONITOR_DATABASE_URL"
        )
    return url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **_options())
    # On a connection already in a transaction (migrate.py's) this starts none of its own.
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=_url(), literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as own:
            _run(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
