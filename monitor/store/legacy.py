"""Adopting a database made by ``create_all`` before migrations existed.

Such a database has tables but no ``alembic_version``. The operations of every revision up to
``LEGACY`` are replayed, skipping what already exists (a table that exists only gets its
missing columns), and the result is stamped ``LEGACY``; :mod:`monitor.store.migrate` then
upgrades it like any other. This is what ``ensure_columns`` once did for ``feeds``, for every
table and index: older versions added tables and columns over time, and create_all never
altered a table it found.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import Column, inspect, literal, text
from sqlalchemy.engine import Connection

from monitor.store.schema import MigrationError, describe, models, scripts

if TYPE_CHECKING:
    from alembic.operations import Operations
    from alembic.operations.ops import MigrateOperation
    from alembic.script import Script

# Adoption is a step of migrating: its lines have always come from the migrate module, and
# ``monitor db upgrade`` quiets that logger alone.
log = logging.getLogger("monitor.store.migrate")

BASELINE = "0001"
# The newest revision whose schema a create_all-made database can have: create_all was last
# used at commit 0f6c4a1, whose tables are those of 0002. Adoption replays up to here.
LEGACY = "0002"


def made_by_create_all(connection: Connection) -> bool:
    """Whether the database, lacking a revision, already holds tables of the baseline."""
    baseline = {o.table_name for o in _recorded(scripts().get_revision(BASELINE), connection)}
    return bool(baseline & set(inspect(connection).get_table_names()))


def adopt(connection: Connection) -> list[str]:
    """Create what a create_all-made database lacks up to LEGACY, then stamp it LEGACY.

    Returns the revisions the adoption stands for, oldest first.
    """
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection)
    replay = _Replay(connection, Operations(context))
    revisions = list(reversed(list(scripts().iterate_revisions(LEGACY, "base"))))
    for revision in revisions:
        for operation in _recorded(revision, connection):
            replay.apply(revision.revision, operation)
        log.info(
            "store: adopted a database made before migrations up to %s: %s",
            revision.revision,
            describe(revision.revision),
        )
    context.stamp(scripts(), LEGACY)
    return [r.revision for r in revisions]


class _Replay:
    """Runs a revision's operations on an existing database, skipping what it already has."""

    def __init__(self, connection: Connection, operations: Operations) -> None:
        self.connection = connection
        self.operations = operations
        self.inspector = inspect(connection)
        self.tables = set(self.inspector.get_table_names())
        self.columns: dict[str, set[str]] = {}
        self.indexes: dict[str, set[str]] = {}

    def apply(self, revision: str, operation: MigrateOperation) -> None:
        from alembic.operations.ops import AddColumnOp, CreateIndexOp, CreateTableOp

        if isinstance(operation, CreateTableOp):
            self._create_table(operation)
        elif isinstance(operation, AddColumnOp):
            self._add_missing(operation.table_name, operation.column)
        elif isinstance(operation, CreateIndexOp):
            if operation.index_name not in self._existing_indexes(operation.table_name):
                self.operations.invoke(operation)
                self.indexes[operation.table_name].add(operation.index_name)
                log.info("store: adopting: created index %s", operation.index_name)
        else:
            raise MigrationError(
                f"revision {revision} uses {type(operation).__name__}, which "
                "adopting a database made before migrations cannot replay"
            )

    def _create_table(self, operation: MigrateOperation) -> None:
        name = operation.table_name
        if name not in self.tables:
            self.operations.invoke(operation)
            self.tables.add(name)
            self.columns[name] = {c.name for c in operation.columns if isinstance(c, Column)}
            self.indexes[name] = set()
            log.info("store: adopting: created table %s", name)
            return
        for column in operation.columns:
            if isinstance(column, Column):  # not a constraint
                self._add_missing(name, column)

    def _existing_columns(self, table: str) -> set[str]:
        if table not in self.columns:
            self.columns[table] = {c["name"] for c in self.inspector.get_columns(table)}
        return self.columns[table]

    def _existing_indexes(self, table: str) -> set[str]:
        if table not in self.indexes:
            found = self.inspector.get_indexes(table)
            self.indexes[table] = {i["name"] for i in found if i["name"]}
        return self.indexes[table]

    def _add_missing(self, table: str, column: Column) -> None:
        if column.name in self._existing_columns(table):
            return
        self.operations.add_column(table, _addable(self.connection, table, column))
        self.columns[table].add(column.name)
        log.info("store: adopting: added column %s.%s", table, column.name)


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
