"""The ``replicas`` table: one row per daemon life, written at its start, beats and clean stop.

Which of those lives count as running or crashed is the daemon's policy
(:mod:`monitor.service.replicas`); this module only reads and writes the rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, func, or_, select

from monitor.store.db import Store
from monitor.store.tables import ReplicaRow


def register(store: Store, life: ReplicaRow, since: datetime) -> list[ReplicaRow]:
    """Record ``life``; return the lives started since ``since`` that have not stopped cleanly,
    as they stood before it, read in the same transaction that records it."""
    with store.session() as session:
        unclean = or_(col(ReplicaRow.stopped).is_(None), col(ReplicaRow.clean).is_(False))
        open_lives = session.exec(
            select(ReplicaRow).where(unclean, ReplicaRow.started >= since)
        ).all()
        session.add(life)
        session.commit()
    return list(open_lives)


def heartbeat(store: Store, replica: str, now: datetime) -> None:
    """The life is still going at ``now``."""
    _set(store, replica, heartbeat=now)


def stopped(store: Store, replica: str, now: datetime) -> None:
    """The life ended cleanly at ``now``."""
    _set(store, replica, stopped=now, heartbeat=now, clean=True)


def ended(store: Store, replicas: list[str], now: datetime) -> None:
    """These lives are over without a clean stop (their process is proven gone): from now on
    they count as neither running nor holding a share of the work."""
    if not replicas:
        return
    with store.session() as session:
        session.execute(
            update(ReplicaRow)
            .where(col(ReplicaRow.id).in_(replicas), col(ReplicaRow.stopped).is_(None))
            .values(stopped=now, clean=False)
        )
        session.commit()


def running(store: Store, heard_since: datetime) -> int:
    """How many lives have not stopped and were heard from since ``heard_since``."""
    with store.session() as session:
        return session.exec(
            select(func.count()).where(
                col(ReplicaRow.stopped).is_(None), ReplicaRow.heartbeat >= heard_since
            )
        ).one()


def _set(store: Store, replica: str, **values: object) -> None:
    with store.session() as session:
        session.execute(update(ReplicaRow).where(col(ReplicaRow.id) == replica).values(**values))
        session.commit()
