"""The lives of daemon processes, kept in the store so that a crash loop cannot go unseen.

A container restarted by its orchestrator after every crash looks healthy from outside most of
the time; its rows here do not: each life that ended without a clean stop is counted at the
next start, logged as an error and exposed as a metric, whichever host or container it ran on.
This module decides which lives run and which ended badly; the rows are read and written by
:mod:`monitor.store.replicas`.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

from monitor import __version__
from monitor.store import Store
from monitor.store import replicas as replica_rows
from monitor.store.tables import ReplicaRow, utcnow
from monitor.util.dates import as_utc

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
    life = ReplicaRow(
        id=replica,
        host=socket.gethostname(),
        pid=os.getpid(),
        instance=instance(),
        version=__version__,
        started=now,
        heartbeat=now,
    )
    open_lives = replica_rows.register(store, life, since=now - RECENT)
    proven = [r for r in open_lives if r.stopped is None and dead_here(r)]
    crashed = [r for r in open_lives if r in proven or not running_now(r, silent_after, now)]
    # A life proven gone is ended now, so `status` and the work shares stop counting it at
    # once rather than after its heartbeat goes silent.
    replica_rows.ended(store, [r.id for r in proven], now)
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


def instance() -> str:
    """Which process this is, in a way no other process shares: "boot id:pid namespace:pid:
    start time". Host name and pid are not enough: in containers every daemon is pid 1, and
    host names repeat (compose ``hostname:``, host networking). "" where ``/proc`` cannot tell.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    started = _started(os.getpid())
    return f"{boot}:{namespace}:{os.getpid()}:{started}" if started else ""


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot); "" if there is no such process,
    None if it cannot be told (it exists but cannot be read, or this is not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "" if Path("/proc/self/stat").exists() else None
    except OSError:
        return None
    # Field 22, counted after the command name, which may itself hold spaces and parentheses.
    return stat[stat.rindex(")") + 2 :].split()[19]


def dead_here(row: ReplicaRow) -> bool:
    """True only when this process can prove the life is over: it ran under this kernel and in
    this pid namespace, and its pid now runs nothing, or a process started at another time.

    Anything else (another host, another container, a life recorded before ``instance``
    existed) is left to its heartbeat: freeing a live replica's leases would make two replicas
    poll and send the same work.
    """
    parts = row.instance.split(":", 3)
    mine = instance().split(":", 3)
    if len(parts) != 4 or len(mine) != 4 or parts[:2] != mine[:2]:
        return False
    started = _started(int(parts[2]))
    return started is not None and started != parts[3]


def running(store: Store, silent_after: timedelta, now: datetime | None = None) -> int:
    """How many lives are running now (see :func:`running_now`)."""
    return replica_rows.running(store, heard_since=(now or utcnow()) - silent_after)


def heartbeat(store: Store, replica: str, now: datetime | None = None) -> None:
    replica_rows.heartbeat(store, replica, now or utcnow())


def stopped(store: Store, replica: str) -> None:
    """This life ends cleanly: it is not counted as a crash at the next start."""
    replica_rows.stopped(store, replica, utcnow())
