"""Engine and sessions for the store URL; SQLite files get their folder and WAL mode.

Opening a Store brings its schema to the newest migration (monitor.store.migrate), so every
command and the daemon work on the schema the code expects; at head that costs one query.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from monitor.store import (
    migrate,
    tables,  # noqa: F401  (registers the tables)
)

CONNECT_TIMEOUT = 10  # seconds
SQLITE_BUSY_TIMEOUT = 30  # seconds a SQLite write waits for another's lock


def store_problem(exc: BaseException) -> str:
    """The driver's own first line ("connection failed: ... Connection refused"), without
    SQLAlchemy's wrapping (the statement, a link): what a log line or /readyz should say."""
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]


class StoreError(RuntimeError):
    """The store cannot be opened or reached."""


def open_engine(url: str) -> Engine:
    """An engine for the store URL, without touching the schema (``monitor db`` needs that).

    A SQLite file gets its folder, a 30 s busy timeout and WAL mode, so the daemon and a
    command can use it at once; other databases get pre-ping, to survive server restarts.
    """
    parsed = make_url(url)
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            # A server that drops packets must fail /readyz and a cycle, not hang them.
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = open_engine(url)
        try:
            migrate.upgrade(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    _wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _wal(cursor: sqlite3.Cursor) -> None:
    """WAL mode, which a file keeps once set. Two processes opening a new file at once both
    try to switch it, and SQLite answers the loser "database is locked" at once, without its
    busy timeout (half the time, measured), so the switch is retried for as long as that."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    delay = 0.01
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
