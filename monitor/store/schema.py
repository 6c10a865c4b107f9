"""Where the store's schema stands: the revision a database is at, and the head it should be at.

The revisions are the Alembic scripts in ``migrations/``; Alembic's ``ScriptDirectory`` reads
them (their ids, their order, their titles), so nothing here parses a revision file by hand.
Applying them is :mod:`monitor.store.migrate`'s job; adopting a database made before
migrations existed is :mod:`monitor.store.legacy`'s.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

from monitor.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
VERSION_TABLE = "alembic_version"

# The modules that define tables (SQLModel classes with table=True). env.py imports them so
# autogenerate sees every table; tests/test_migrations.py checks no other module defines one.
MODEL_MODULES = (
    "monitor.store.tables",
    "monitor.store.slack_threads",
    "monitor.store.verdicts",
    "monitor.store.story_edits",
)


class MigrationError(StoreError):
    """The store's schema cannot be brought to this version's head."""


def alembic_config(connection: Connection | None = None) -> Config:
    """A Config for the package's migrations, made in code: no alembic.ini to ship or find.

    With a connection, env.py migrates on it; without one it uses ``sqlalchemy.url`` (set it
    with ``config.set_main_option``) or MONITOR_DATABASE_URL, e.g. to autogenerate a revision.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def scripts() -> ScriptDirectory:
    """The revisions as Alembic reads them; read once per process (they ship with the code)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision: the schema this version of monitor works on.

    A history with several heads is Alembic's error to explain, not one to guess around.
    """
    found = scripts().get_current_head()
    if found is None:
        raise MigrationError(f"no revisions in {VERSIONS}")
    return found


def known(revision: str) -> bool:
    """Whether ``revision`` is one of this version's; a newer monitor's is not."""
    return revision in {script.revision for script in scripts().walk_revisions()}


def describe(revision: str) -> str:
    """A revision's title (its docstring's first paragraph, one line), for people to read."""
    return (scripts().get_revision(revision).doc or "").strip()


def current(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty one or one made before migrations."""
    with engine.connect() as connection:
        return read_revision(connection)


def read_revision(connection: Connection) -> str | None:
    """:func:`current` on a connection already open (and perhaps locked, mid-transaction)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise MigrationError(f"the store has several revisions ({', '.join(rows)}); expected one")
    return rows[0] if rows else None


def models() -> MetaData:
    """SQLModel's metadata with every table of MODEL_MODULES in it: what head must equal."""
    from sqlmodel import SQLModel

    for module in MODEL_MODULES:
        importlib.import_module(module)
    return SQLModel.metadata
