"""Leases written into rows: the claim, release and freedom test that feeds and outbox rows share.

A table that can be leased has ``lease_owner`` and ``lease_until`` columns. A replica claims
rows in one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``: on PostgreSQL two
replicas claiming at once lock disjoint rows and neither waits; on SQLite the statement runs
under the file's write lock and gives the same answer one at a time. What each table claims,
and when, is in its own module (:mod:`monitor.store.feeds`, :mod:`monitor.store.notifications`);
renewal while work goes on is :mod:`monitor.service.leases`.

Work that must see every earlier write (a new article's story, an alert's outbox rows) is
serialized instead, by :func:`serialized`: a transaction-scoped advisory lock on PostgreSQL,
the file's write lock, taken up front, on SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, text, update
from sqlmodel import Session, col, select

from monitor.store.db import Store
from monitor.store.tables import FeedState, NotificationRow

if TYPE_CHECKING:
    from monitor.service.metrics import Metrics

# The takeover warning has always come from the lease module; operators' filters know it so.
log = logging.getLogger("monitor.service.leases")

# pg_advisory_xact_lock keys: one lock for everything that assigns stories and alerts.
INGEST_LOCK = 0x5A4E_C710


@dataclass(slots=True)
class Claim:
    names: list[str]  # what this replica now holds
    taken_over: int = 0  # of those, held by another replica whose lease had expired

    def note_takeover(self, what: str, metrics: Metrics | None) -> None:
        """Say so when this claim took work from a replica that went silent."""
        if self.taken_over:
            log.warning("took over %d %s from a replica whose lease expired", self.taken_over, what)
            if metrics is not None:
                metrics.leases_taken_over.inc(self.taken_over)


def free(table, owner: str, now: datetime):
    """Rows of ``table`` that ``owner`` may claim: unleased, lapsed, or already its own."""
    return or_(table.lease_until.is_(None), table.lease_until < now, table.lease_owner == owner)


def claim_rows(
    column,
    store: Store,
    wanted,
    owner: str,
    until: datetime,
    limit: int | None = None,
    **extra: object,
) -> Claim:
    """Take the rows ``wanted`` selects, oldest first, skipping any another replica has
    locked this instant; returns their ``column`` values, oldest first. ``extra`` columns are
    written into the claimed rows too (an outbox claim's token)."""
    table = column.class_
    with store.session() as session:
        # Only rows another replica held (its lease lapsed): usually none, so no long read.
        others = table.lease_owner.not_in(["", owner])
        held = set(session.exec(select(column).where(wanted, others)).all())
        ids = select(table.id).where(wanted).order_by(table.id).limit(limit)
        statement = (
            update(table)
            .where(col(table.id).in_(ids.with_for_update(skip_locked=True).scalar_subquery()))
            .values(lease_owner=owner, lease_until=until, **extra)
            .returning(table.id, column)
        )
        claimed = [key for _, key in sorted(session.execute(statement).all())]
        session.commit()
    return Claim(claimed, sum(1 for key in claimed if key in held))


def release_rows(store: Store, column, values: Sequence[str], owner: str) -> None:
    """Give back the rows whose ``column`` is among ``values``, where ``owner`` holds them."""
    if not values:
        return
    table = column.class_
    with store.session() as session:
        session.execute(
            update(table)
            .where(col(column).in_(list(values)), table.lease_owner == owner)
            .values(lease_owner="", lease_until=None)
        )
        session.commit()


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
