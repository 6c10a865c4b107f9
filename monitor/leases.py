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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from monitor.metrics import Metrics
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


def _free(table, owner: str, now: datetime):
    return or_(table.lease_until.is_(None), table.lease_until < now, table.lease_owner == owner)


def _claim(
    column, store: Store, wanted, owner: str, until: datetime, limit: int | None = None
) -> Claim:
    """Take the rows ``wanted`` selects, oldest first, skipping any another replica has
    locked this instant; returns their ``column`` values."""
    table = column.class_
    with store.session() as session:
        # Only rows another replica held (its lease lapsed): usually none, so no long read.
        others = table.lease_owner.not_in(["", owner])
        held = set(session.exec(select(column).where(wanted, others)).all())
        ids = select(table.id).where(wanted).order_by(table.id).limit(limit)
        statement = (
            update(table)
            .where(col(table.id).in_(ids.with_for_update(skip_locked=True).scalar_subquery()))
            .values(lease_owner=owner, lease_until=until)
            .returning(column)
        )
        claimed = list(session.execute(statement).scalars())
        session.commit()
    return Claim(claimed, sum(1 for key in claimed if key in held))


def ensure_feed_rows(store: Store, feeds: Sequence[tuple[str, str]]) -> None:
    """A row for every (name, location), so a feed never polled yet can be claimed too."""
    if not feeds:
        return
    with store.session() as session:
        known = set(
            session.exec(
                select(FeedState.name).where(col(FeedState.name).in_([n for n, _ in feeds]))
            ).all()
        )
        missing = [(n, loc) for n, loc in feeds if n not in known]
        if not missing:
            return
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        rows = [{"name": n, "url": loc, "origin": "config"} for n, loc in missing]
        # Many rows at once, the columns' defaults filled in; a replica that inserted the
        # same feed a moment ago wins, and this one carries on.
        session.execute(insert(FeedState).on_conflict_do_nothing(), rows)
        session.commit()


def claim_feeds(
    store: Store,
    names: Sequence[str],
    owner: str,
    now: datetime,
    lease: timedelta,
    force: bool = False,
    limit: int | None = None,
) -> Claim:
    """Claim those of ``names`` that are due (unless ``force``) and not held by another; at
    most ``limit``, so that replicas ticking a moment later get their share."""
    if not names:
        return Claim([])
    table = FeedState
    conditions = [col(table.name).in_(list(names)), _free(table, owner, now)]
    if not force:
        conditions.append(or_(table.next_poll.is_(None), table.next_poll <= now))
    claim = _claim(FeedState.name, store, and_(*conditions), owner, now + lease, limit)
    claim.names.sort(key=list(names).index)
    return claim


def _release(store: Store, column, values: Sequence[str], owner: str) -> None:
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


def release_feeds(store: Store, names: Sequence[str], owner: str) -> None:
    """Give feeds back without recording a poll (polls cut short by shutdown)."""
    _release(store, FeedState.name, names, owner)


def release_notifications(store: Store, keys: Sequence[str], owner: str) -> None:
    """Give unsent rows back at shutdown, so the next start need not wait out the lease."""
    _release(store, NotificationRow.key, keys, owner)


def claim_notifications(
    store: Store, owner: str, now: datetime, lease: timedelta, limit: int = 50
) -> Claim:
    """Claim due pending outbox rows, oldest first.

    A row waits while an earlier row of the same story and channel is pending and held by
    another replica, so a follow-up is never sent before the message it follows.
    """
    table = NotificationRow
    earlier = aliased(NotificationRow)
    blocked = exists().where(
        earlier.story_id == table.story_id,
        earlier.channel == table.channel,
        earlier.id < table.id,
        earlier.state == "pending",
        earlier.lease_until >= now,
        earlier.lease_owner != owner,
    )
    wanted = and_(
        table.state == "pending", table.next_attempt <= now, _free(table, owner, now), ~blocked
    )
    return _claim(NotificationRow.key, store, wanted, owner, now + lease, limit)


def still_mine(session: Session, row: NotificationRow, owner: str, until: datetime) -> bool:
    """Renew a claimed row's lease just before sending it; False if another replica took it
    over meanwhile (this replica stalled past its lease), in which case it must not send."""
    result = session.execute(
        update(NotificationRow)
        .where(
            NotificationRow.id == row.id,
            NotificationRow.lease_owner == owner,
            NotificationRow.state == "pending",
        )
        .values(lease_until=until)
    )
    session.commit()
    return result.rowcount == 1


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
