"""Schema migrations: the Alembic revisions in ``migrations/``, applied when a Store opens.

A store is opened by every command and by most tests, and importing Alembic alone takes over
100 ms, so the usual case (the database is at head) is settled without it: ``head()`` reads the
revision ids straight from the files in ``migrations/versions`` and the database's
``alembic_version`` row is compared with it. Alembic is imported only when there is work.

Two replicas starting together on one PostgreSQL database would both see an old revision and
both migrate, so upgrades run under an advisory lock and look at the revision again once they
hold it. On SQLite, ``BEGIN IMMEDIATE`` takes the file's write lock for the same effect.

A database made by ``create_all`` before migrations existed has tables but no
``alembic_version``. It is adopted: the operations of every revision up to ``LEGACY`` are
replayed, skipping what already exists (a table that exists only gets its missing columns), the
result is stamped ``LEGACY`` and upgraded on like any other.
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, MetaData, inspect, literal, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from monitor.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.operations import Operations
    from alembic.operations.ops import MigrateOperation
    from alembic.script import Script, ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
VERSION_TABLE = "alembic_version"
BASELINE = "0001"
# The newest revision whose schema a create_all-made database can have: create_all was last
# used at commit 0f6c4a1, whose tables are those of 0002. Adoption replays up to here.
LEGACY = "0002"
# One advisory-lock key for the store of any monitor in a PostgreSQL database ("monitor" in
# ASCII); other applications are unlikely to pick it.
LOCK_KEY = 0x6D6F6E69746F72

# The modules that define tables (SQLModel classes with table=True). env.py imports them so
# autogenerate sees every table; tests/test_migrations.py checks no other module defines one.
MODEL_MODULES = ("monitor.store.tables", "monitor.store.slack_threads")

_REVISION = re.compile(r"^revision\s*(?::[^=\n]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=\n]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


class MigrationError(StoreError):
    """The store's schema cannot be brought to this version's head."""


@functools.cache
def head() -> str:
    """The newest revision, read from the revision files' ``revision`` and ``down_revision``.

    Cached per process. A file this simple reading cannot make sense of, or a history with more
    than one head, is left to Alembic, which reads the files properly and explains the problem.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        if path.name.startswith("_"):
            continue
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return _alembic_head()
        revisions.add(revision.group(1))
        parents.update(_QUOTED.findall(down.group(1)))
    heads = revisions - parents
    if len(heads) != 1:
        return _alembic_head()
    return heads.pop()


def current(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty one or one made before migrations."""
    with engine.connect() as connection:
        return _read_revision(connection)


def upgrade(engine: Engine) -> list[str]:
    """Bring the database to head; the revisions applied, oldest first ([] if it was at head).

    A database made before migrations reports the revisions its adoption stands for.
    """
    target = head()
    if current(engine) == target:
        return []
    with (
        _quiet_alembic(),
        engine.connect() as connection,
        _migration_lock(connection),
        connection.begin(),
    ):
        if connection.dialect.name == "sqlite":
            # The write lock now, not at the first write: a second process waits here and
            # then finds the work done, instead of failing halfway through it.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return _upgrade_locked(connection, target)


def describe(revision: str) -> str:
    """A revision's title (its docstring's first paragraph, one line), for people to read."""
    return (_script().get_revision(revision).doc or "").strip()


def models() -> MetaData:
    """SQLModel's metadata with every table of MODEL_MODULES in it: what head must equal."""
    from sqlmodel import SQLModel

    for module in MODEL_MODULES:
        importlib.import_module(module)
    return SQLModel.metadata


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


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Keep Alembic's own INFO lines (plugins, dialect, "Running upgrade") out of the logs.

    This module logs each revision applied itself; a level someone set on the ``alembic``
    logger on purpose is left alone.
    """
    logger = logging.getLogger("alembic")
    if logger.level != logging.NOTSET:
        yield
        return
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(logging.NOTSET)


def _alembic_head() -> str:
    found = _script().get_current_head()
    if found is None:
        raise MigrationError(f"no revisions in {VERSIONS}")
    return found


@functools.cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def _read_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise MigrationError(f"the store has several revisions ({', '.join(rows)}); expected one")
    return rows[0] if rows else None


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, hold the session-level advisory lock while the body runs."""
    if connection.dialect.name != "postgresql":
        yield
        return
    key = {"key": LOCK_KEY}
    taken = connection.execute(text("SELECT pg_try_advisory_lock(CAST(:key AS bigint))"), key)
    if not taken.scalar():
        log.info("store: another process is migrating the store; waiting for it to finish")
        connection.execute(text("SELECT pg_advisory_lock(CAST(:key AS bigint))"), key)
    # The lock outlives this transaction; the migration gets a transaction of its own.
    connection.commit()
    try:
        yield
    finally:
        try:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(CAST(:key AS bigint))"), key)
            connection.commit()
        except DBAPIError:
            # Ending the session releases its locks; never return it to the pool holding one.
            log.warning("store: could not release the migration lock; closing the connection")
            connection.invalidate()


def _upgrade_locked(connection: Connection, target: str) -> list[str]:
    """The upgrade proper, on a connection holding the lock and inside its transaction."""
    from alembic import command

    found = _read_revision(connection)
    if found == target:
        return []  # another process migrated while this one waited for the lock
    script = _script()
    if found is not None and found not in {s.revision for s in script.walk_revisions()}:
        raise MigrationError(
            f"the store is at revision {found}, which this version of monitor does not know "
            f"(its head is {target}): a newer monitor migrated it; run that version"
        )
    applied: list[str] = []
    if found is None and _made_by_create_all(connection):
        applied += _adopt(connection, script)

    def applied_one(*, step: Any, **_: Any) -> None:
        revision = step.up_revision_id
        applied.append(revision)
        log.info("store: applied migration %s: %s", revision, describe(revision))

    config = alembic_config(connection)
    config.attributes["on_version_apply"] = [applied_one]
    command.upgrade(config, "head")
    return applied


def _made_by_create_all(connection: Connection) -> bool:
    """Whether the database, lacking a revision, already holds tables of the baseline."""
    baseline = {o.table_name for o in _recorded(_script().get_revision(BASELINE), connection)}
    return bool(baseline & set(inspect(connection).get_table_names()))


def _adopt(connection: Connection, script: ScriptDirectory) -> list[str]:
    """Create what a create_all-made database lacks up to LEGACY, then stamp it LEGACY.

    This is what ``ensure_columns`` did for ``feeds``, for every table and index: older versions
    added tables and columns over time, and create_all never altered a table it found.
    """
    from alembic.operations import Operations
    from alembic.operations.ops import AddColumnOp, CreateIndexOp, CreateTableOp
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection)
    operations = Operations(context)
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    columns: dict[str, set[str]] = {}
    indexes: dict[str, set[str]] = {}

    def existing_columns(table: str) -> set[str]:
        if table not in columns:
            columns[table] = {c["name"] for c in inspector.get_columns(table)}
        return columns[table]

    def existing_indexes(table: str) -> set[str]:
        if table not in indexes:
            indexes[table] = {i["name"] for i in inspector.get_indexes(table) if i["name"]}
        return indexes[table]

    def add_missing(table: str, column: Column) -> None:
        if column.name in existing_columns(table):
            return
        operations.add_column(table, _addable(connection, table, column))
        columns[table].add(column.name)
        log.info("store: adopting: added column %s.%s", table, column.name)

    revisions = list(reversed(list(script.iterate_revisions(LEGACY, "base"))))
    for revision in revisions:
        for operation in _recorded(revision, connection):
            if isinstance(operation, CreateTableOp):
                name = operation.table_name
                if name not in tables:
                    operations.invoke(operation)
                    tables.add(name)
                    columns[name] = {c.name for c in operation.columns if isinstance(c, Column)}
                    indexes[name] = set()
                    log.info("store: adopting: created table %s", name)
                    continue
                for column in operation.columns:
                    if isinstance(column, Column):  # not a constraint
                        add_missing(name, column)
            elif isinstance(operation, AddColumnOp):
                add_missing(operation.table_name, operation.column)
            elif isinstance(operation, CreateIndexOp):
                if operation.index_name not in existing_indexes(operation.table_name):
                    operations.invoke(operation)
                    indexes[operation.table_name].add(operation.index_name)
                    log.info("store: adopting: created index %s", operation.index_name)
            else:
                raise MigrationError(
                    f"revision {revision.revision} uses {type(operation).__name__}, which "
                    "adopting a database made before migrations cannot replay"
                )
        log.info(
            "store: adopted a database made before migrations up to %s: %s",
            revision.revision,
            describe(revision.revision),
        )
    context.stamp(script, LEGACY)
    return [r.revision for r in revisions]


def _recorded(revision: Script, connection: Connection) -> list[MigrateOperation]:
    """The operations a revision's upgrade() asks for, collected instead of run."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    recorded: list[MigrateOperation] = []
    with Operations.context(MigrationContext.configure(connection)) as operations:
        _record_into(operations, recorded)
        revision.module.upgrade()
    return recorded


def _record_into(operations: Operations, recorded: list[MigrateOperation]) -> None:
    # Every op.* call ends in Operations.invoke(operation); shadowing it on this one instance
    # keeps the operation objects and runs nothing.
    operations.invoke = recorded.append  # type: ignore[method-assign, assignment]


def _addable(connection: Connection, table: str, column: Column) -> Column:
    """The column to add to an existing table, whose rows need a value if it is NOT NULL.

    The value is the model's Python default (as in ``monitor.store.tables``); a NOT NULL column
    without a server default or a constant model default is added nullable, with a warning.
    """
    if column.nullable or column.server_default is not None:
        return Column(
            column.name, column.type, nullable=column.nullable, server_default=column.server_default
        )
    model = models().tables.get(table)
    model_column = model.columns.get(column.name) if model is not None else None
    default = model_column.default if model_column is not None else None
    if default is None or not default.is_scalar:
        log.warning(
            "store: adopting: %s.%s has no constant default for existing rows; added nullable",
            table,
            column.name,
        )
        return Column(column.name, column.type, nullable=True)
    value = literal(default.arg, type_=column.type).compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True}
    )
    return Column(column.name, column.type, nullable=False, server_default=text(str(value)))
