"""The lives of daemon processes, kept in the store so that a crash loop cannot go unseen.

A container restarted by its orchestrator after every crash looks healthy from outside most of
the time; its rows here do not: each life that ended without a clean stop is counted at the
next start, logged as an error and exposed as a metric, whichever host or container it ran on.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, func, select

from monitor import __version__
from monitor.dates import as_utc
from monitor.store import Store
from monitor.store.tables import ReplicaRow, utcnow

log = logging.getLogger(__name__)
RECENT = timedelta(hours=1)  # how far back unclean exits count towards a crash loop


def silent_after(tick: float) -> timedelta:
    """A life not heard from for this long (a few ticks; it beats once a cycle) is not
    counted as running."""
    return timedelta(seconds=max(3 * tick, 60))


def running_now(row: ReplicaRow, silent: timedelta, now: datetime) -> bool:
    return row.stopped is None and as_utc(row.heartbeat) >= now - silent


def register(store: Store, replica: str, silent_after: timedelta) -> list[ReplicaRow]:
    """Record this life's start; return the recent lives that ended without a clean stop.

    A life counts as ended when its process is gone from this host, or when its heartbeat is
    older than ``silent_after`` (a few ticks), so a live second replica is not mistaken for a
    crashed one. The caller may hand the leases of ended lives straight to the others.
    """
    now = utcnow()
    with store.session() as session:
        rows = session.exec(
            select(ReplicaRow).where(
                col(ReplicaRow.stopped).is_(None), ReplicaRow.started >= now - RECENT
            )
        ).all()
        crashed = [r for r in rows if dead_here(r) or not running_now(r, silent_after, now)]
        session.add(
            ReplicaRow(
                id=replica,
                host=socket.gethostname(),
                pid=os.getpid(),
                version=__version__,
                started=now,
                heartbeat=now,
            )
        )
        session.commit()
    if crashed:
        last = max(crashed, key=lambda r: r.started)
        log.error(
            "%d daemon life/lives in the last hour ended without a clean stop (a crash loop?); "
            "the latest was %s, started %s, last seen %s",
            len(crashed),
            last.id,
            as_utc(last.started).isoformat(timespec="seconds"),
            as_utc(last.heartbeat).isoformat(timespec="seconds"),
            extra={"replica": replica},
        )
    return crashed


def dead_here(row: ReplicaRow) -> bool:
    """A life on this host whose process is gone: its pid runs nothing, or runs this very
    process (a restarted container is pid 1 again)."""
    if row.host != socket.gethostname():
        return False
    if row.pid == os.getpid():
        return True
    try:
        os.kill(row.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # some other user's process: alive
        return False
    return False


def running(store: Store, silent_after: timedelta, now: datetime | None = None) -> int:
    """How many lives are running now (see :func:`running_now`)."""
    now = now or utcnow()
    with store.session() as session:
        return session.exec(
            select(func.count()).where(
                col(ReplicaRow.stopped).is_(None), ReplicaRow.heartbeat >= now - silent_after
            )
        ).one()


def heartbeat(store: Store, replica: str, now: datetime | None = None) -> None:
    with store.session() as session:
        session.execute(
            update(ReplicaRow)
            .where(col(ReplicaRow.id) == replica)
            .values(heartbeat=now or utcnow())
        )
        session.commit()


def stopped(store: Store, replica: str) -> None:
    """This life ends cleanly: it is not counted as a crash at the next start."""
    now = utcnow()
    with store.session() as session:
        session.execute(
            update(ReplicaRow)
            .where(col(ReplicaRow.id) == replica)
            .values(stopped=now, heartbeat=now, clean=True)
        )
        session.commit()
