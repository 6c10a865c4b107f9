"""Schema migrations: the Alembic revisions in ``migrations/``, applied when a Store opens.

Where the schema stands (the database's revision, the head, a revision's title) is
:mod:`monitor.store.schema`; adopting a database made before migrations is
:mod:`monitor.store.legacy`. This module applies what is missing.

Two replicas starting together on one PostgreSQL database would both see an old revision and
both migrate, so upgrades run under an advisory lock and look at the revision again once they
hold it. On SQLite, ``BEGIN IMMEDIATE`` takes the file's write lock for the same effect.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from monitor.store import legacy
from monitor.store.schema import (
    MigrationError,
    alembic_config,
    current,
    describe,
    head,
    known,
    read_revision,
)

log = logging.getLogger(__name__)

# One advisory-lock key for the store of any monitor in a PostgreSQL database ("monitor" in
# ASCII); other applications are unlikely to pick it.
LOCK_KEY = 0x6D6F6E69746F72


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

    found = read_revision(connection)
    if found == target:
        return []  # another process migrated while this one waited for the lock
    if found is not None and not known(found):
        raise MigrationError(
            f"the store is at revision {found}, which this version of monitor does not know "
            f"(its head is {target}): a newer monitor migrated it; run that version"
        )
    applied: list[str] = []
    if found is None and legacy.made_by_create_all(connection):
        applied += legacy.adopt(connection)

    def applied_one(*, step: Any, **_: Any) -> None:
        revision = step.up_revision_id
        applied.append(revision)
        log.info("store: applied migration %s: %s", revision, describe(revision))

    config = alembic_config(connection)
    config.attributes["on_version_apply"] = [applied_one]
    command.upgrade(config, "head")
    return applied
