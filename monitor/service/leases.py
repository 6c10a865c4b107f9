"""Leases: how replicas against one store share feeds and sends without doing either twice.

A replica claims a row by writing its id and an expiry into it, in one ``UPDATE ... WHERE id
IN (SELECT ... FOR UPDATE SKIP LOCKED)``: on PostgreSQL two replicas claiming at once lock
disjoint rows and neither waits for the other; on SQLite the statement runs under the file's
write lock, which gives the same answer one at a time. A replica that dies keeps its claims
only until they expire; then any other takes them over.

Work that must see every earlier write (a new article's story, an alert's outbox rows) is
serialized instead, by :func:`serialized`: a transaction-scoped advisory lock on PostgreSQL,
the file's write lock, taken up front, on SQLite.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import text, update
from sqlmodel import Session, col

from monitor.store import Store
from monitor.store.tables import FeedState, NotificationRow

log = logging.getLogger(__name__)

# pg_advisory_xact_lock keys: one lock for everything that assigns stories and alerts.
INGEST_LOCK = 0x5A4E_C710


def new_replica_id() -> str:
    """host:pid:random, readable in logs and unique even when a pid is reused after a crash."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def serialized(session: Session) -> None:
    """Hold the ingest lock until the session's transaction ends.

    Call it first in the transaction. On SQLite a write that changes nothing takes the
    file's write lock at once: with the driver's deferred BEGIN, two processes could each read
    the same state first and then both write what follows from it.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INGEST_LOCK})
    elif dialect == "sqlite":
        session.execute(text("UPDATE replicas SET pid = pid WHERE 0"))


class LeaseKeeper:
    """Keeps leases alive while slow work goes on, from a thread of its own.

    A poll (a feed, then its linked pages one after another) or a send can outlast a lease;
    without renewal another replica takes the work over and both finish it. ``renew`` is
    called every ``every`` seconds with the keys still held and returns those it lost, which
    are logged and no longer renewed; the write that ends the work is itself conditional on
    the lease (the fence), and that is what drops a late result.
    """

    def __init__(
        self,
        renew: Callable[[list[str]], list[str]],
        keys: Iterable[str],
        every: float,
        what: str,
    ) -> None:
        self._renew = renew
        self._held = set(keys)
        self._every = every
        self._what = what
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{what}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        if self._held:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._every)

    def finished(self, key: str) -> None:
        """The work on ``key`` has ended: stop renewing it."""
        with self._lock:
            self._held.discard(key)

    def renew_now(self) -> None:
        with self._lock:
            keys = sorted(self._held)
        if not keys:
            return
        try:
            lost = self._renew(keys)
        except Exception:  # the store may be down for a moment: the fence still holds
            log.exception("could not renew the leases of %d %s", len(keys), self._what)
            return
        if lost:
            log.warning(
                "lost the lease on %d %s while working on them: %s",
                len(lost),
                self._what,
                ", ".join(lost[:5]),
            )
            with self._lock:
                self._held.difference_update(lost)

    def _run(self) -> None:
        while not self._done.wait(self._every):
            self.renew_now()


def release_owners(store: Store, owners: Sequence[str]) -> int:
    """Free every lease held by lives known to be over (crashed on this host), so a restart
    need not wait out their leases; returns how many were freed."""
    if not owners:
        return 0
    freed = 0
    with store.session() as session:
        for table in (FeedState, NotificationRow):
            result = session.execute(
                update(table)
                .where(col(table.lease_owner).in_(list(owners)))
                .values(lease_owner="", lease_until=None)
            )
            freed += result.rowcount
        session.commit()
    return freed
