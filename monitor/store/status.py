"""Read-only summaries across aggregates, for ``monitor status`` and the daemon's gauges.

Nothing here writes. Each query counts or lists what several tables hold together (daemon
lives and the leases they have on feeds and outbox rows, failing feeds, the outbox by state),
so the deployment as a whole is read in one place; what the numbers mean to an operator is
:mod:`monitor.service.status`'s.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, or_, select

from monitor.store.db import Store
from monitor.store.failures import quarantined_count
from monitor.store.tables import FeedState, NotificationRow, ReplicaRow


@dataclass(slots=True)
class Summary:
    lives: list[ReplicaRow]  # not stopped, or heard from lately; the newest start first
    held: Counter[tuple[str, str]]  # (owner, "feeds" | "sends") -> leases held now
    feeds: int
    failing_feeds: int
    quarantined: int
    outbox: dict[str, int]
    oldest_pending: datetime | None


def summary(store: Store, now: datetime, lives_since: datetime) -> Summary:
    """The store's view of the deployment at ``now``, in one session; ``lives_since``: lives
    that stopped are listed if heard from after it."""
    with store.session() as session:
        lives = session.exec(
            select(ReplicaRow)
            .where(or_(col(ReplicaRow.stopped).is_(None), ReplicaRow.heartbeat >= lives_since))
            .order_by(col(ReplicaRow.started).desc())
        ).all()
        oldest = session.exec(
            select(func.min(NotificationRow.created)).where(NotificationRow.state == "pending")
        ).one()
        return Summary(
            lives=list(lives),
            held=leases_held(session, now),
            feeds=session.exec(select(func.count()).select_from(FeedState)).one(),
            failing_feeds=failing_feeds(session),
            quarantined=quarantined_count(session),
            outbox=outbox_states(session),
            oldest_pending=oldest,
        )


def leases_held(session: Session, now: datetime) -> Counter[tuple[str, str]]:
    """Leases in force at ``now``, by owner: feeds being polled, sends being made."""
    held: Counter[tuple[str, str]] = Counter()
    for table, kind in ((FeedState, "feeds"), (NotificationRow, "sends")):
        rows = session.exec(
            select(table.lease_owner, func.count())
            .where(table.lease_owner != "", table.lease_until >= now)
            .group_by(table.lease_owner)
        ).all()
        held.update({(owner, kind): n for owner, n in rows})
    return held


def failing_feeds(session: Session) -> int:
    """Feeds whose last poll failed."""
    return session.exec(select(func.count()).where(FeedState.consecutive_failures > 0)).one()


def outbox_states(session: Session) -> dict[str, int]:
    """Outbox rows by state: a growing ``pending`` or any ``failed`` wants a look."""
    return dict(
        session.exec(
            select(NotificationRow.state, func.count()).group_by(NotificationRow.state)
        ).all()
    )
