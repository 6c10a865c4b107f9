"""Leases over time: who this replica is, and keeping its claims alive while work goes on.

A replica claims feeds and outbox rows by writing its id and an expiry into them (the SQL is in
:mod:`monitor.store.claims`); a replica that dies keeps its claims only until they expire, then
any other takes them over. A poll or a send can outlast its lease, so :class:`LeaseKeeper`
renews what is still being worked on from a thread of its own.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)


def new_replica_id() -> str:
    """host:pid:random, readable in logs and unique even when a pid is reused after a crash."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


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
