"""Engine and sessions for the store URL; SQLite files get their folder and WAL mode.

Opening a Store brings its schema to the newest migration (monitor.store.migrate), so every
command and the daemon work on the schema the code expects; at head that costs one query
(and reading the revision scripts, once per process). What stands in the way of opening it
(a URL that is none, a server that is down, a file that cannot be written) is a StoreError.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

from monitor.errors import StoreError
from monitor.store import (
    migrate,
    tables,  # noqa: F401  (registers the tables)
)
from monitor.store.jsoncodec import dumps, loads

CONNECT_TIMEOUT = 10  # seconds
WAL_CHECKPOINT_PAGES = 10_000
SQLITE_BUSY_TIMEOUT = 30  # seconds a SQLite write waits for another's lock


def store_problem(exc: BaseException) -> str:
    """The driver's own first line ("connection failed: ... Connection refused"), without
    SQLAlchemy's wrapping (the statement, a link): what a log line or /readyz should say."""
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]


def shown_url(url: str) -> str:
    """The store URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "(database_url, not a valid URL)"


def parse_url(url: str) -> URL:
    """The store URL, parsed."""
    with _unusable_url():
        return make_url(url)


@contextmanager
def _unusable_url() -> Iterator[None]:
    """A URL SQLAlchemy cannot read or build an engine for (no such dialect, a port that is
    not a number) is the user's to fix: a :class:`StoreError`, never a traceback."""
    try:
        yield
    except (SQLAlchemyError, ValueError) as exc:
        raise StoreError(f"database_url is not a usable store URL: {store_problem(exc)}") from exc


@contextmanager
def opening(url: str) -> Iterator[None]:
    """What the database or the file system refuses while the store opens (or migrates)
    becomes a :class:`StoreError` naming the store, in the driver's own words."""
    try:
        yield
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(
            f"cannot open the store at {shown_url(url)}: {store_problem(exc)}"
        ) from exc


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    parsed = parse_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def open_engine(url: str) -> Engine:
    """An engine for the store URL, without touching the schema (``monitor db`` needs that).

    A SQLite file gets its folder, a 30 s busy timeout and WAL mode, so the daemon and a
    command can use it at once; other databases get pre-ping, to survive server restarts.
    Raises :class:`StoreError` for a URL that names no usable store.
    """
    try:
        with _unusable_url():
            return _engine(url, make_url(url))
    except ImportError as exc:
        raise StoreError(
            f"cannot open the store at {shown_url(url)}: its driver is not installed "
            f"({exc.name or exc}); for PostgreSQL: pip install 'sanctions-monitor[postgres]'"
        ) from exc


def _engine(url: str, parsed: URL) -> Engine:
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(url)
        if database is not None:
            try:
                database.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot open the store at {shown_url(url)}: cannot create the folder "
                    f"{database.parent}: {exc.strerror}"
                ) from exc
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            # A server that drops packets must fail /readyz and a cycle, not hang them.
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    engine = create_engine(url, json_serializer=dumps, json_deserializer=loads, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """The store at ``url``, migrated to head.

    ``create=False`` is for commands that only read: a SQLite file that does not exist is a
    :class:`StoreError` naming it, rather than a new empty store that shows nothing (the usual
    cause is a command run with another config, or none, than the daemon's).
    """

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        if not create:
            path = sqlite_file(url)
            if path is not None and not path.exists():
                raise StoreError(
                    f"no store at {path.resolve()} (database_url {shown_url(url)}): "
                    "check --config or --db; `monitor run` or `monitor db upgrade` creates it"
                )
        self.engine: Engine = open_engine(url)
        try:
            with opening(url):
                migrate.upgrade(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def ping(self) -> None:
        """Raise if the database does not answer a trivial query (for ``/readyz``)."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    _wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Checkpoint the WAL every 10,000 pages (about 40 MB) rather than every 1,000: a cold poll
    # rewrites the same index pages batch after batch, and copying them back ten times as often
    # cost the single writer 8% of its time (bench/poll.py's feeds, ingested alone).
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
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
