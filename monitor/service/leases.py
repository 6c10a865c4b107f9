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
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from monitor.service.metrics import Metrics
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


def renew_feeds(store: Store, names: Sequence[str], owner: str, until: datetime) -> list[str]:
    """Extend this replica's leases on feeds it is still polling; returns those it no longer
    holds (another replica took them over while this one was slow)."""
    if not names:
        return []
    with store.session() as session:
        renewed = set(
            session.execute(
                update(FeedState)
                .where(col(FeedState.name).in_(list(names)), FeedState.lease_owner == owner)
                .values(lease_until=until)
                .returning(FeedState.name)
            ).scalars()
        )
        session.commit()
    return [name for name in names if name not in renewed]


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


def release_notifications(
    store: Store, keys: Sequence[str], owner: str, token: int | None = None
) -> None:
    """Give unsent rows back (at shutdown, or a row that must wait for an earlier one), so no
    one need wait out the lease; with ``token``, only what that claim still holds."""
    if token is None:
        _release(store, NotificationRow.key, keys, owner)
        return
    if not keys:
        return
    with store.session() as session:
        session.execute(
            update(NotificationRow)
            .where(col(NotificationRow.key).in_(list(keys)), holding(owner, token))
            .values(lease_owner="", lease_until=None)
        )
        session.commit()


def claim_notifications(
    store: Store,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 50,
    *,
    only: Iterable[tuple[str, str]] | None = None,
    skip: Iterable[str] = (),
) -> NotificationClaim:
    """Claim due pending outbox rows, oldest first, under a token of this claim's own.

    A row waits while any earlier row of its story and channel is pending, whoever holds it
    and whether or not its retry is due yet: per story and channel, messages reach a channel in
    the order they were written, so a follow-up never comes before (in Slack, never becomes the
    thread of) the message it follows. Once the earlier row has an outcome, even failed for
    good, the rows after it may go. ``only`` limits the claim to some (story, channel) pairs
    and ``skip`` leaves rows out: :func:`monitor.delivery.outbox.deliver` uses them to send at
    once what a send just let go, without retrying what it already tried.
    """
    table = NotificationRow
    conditions = [
        table.state == "pending",
        table.next_attempt <= now,
        _free(table, owner, now),
        ~_earlier_pending(table),
    ]
    if only is not None:
        pairs = [and_(table.story_id == story, table.channel == ch) for story, ch in only]
        if not pairs:
            return NotificationClaim([])
        conditions.append(or_(*pairs))
    skipped = list(skip)
    if skipped:
        conditions.append(col(table.key).not_in(skipped))
    token = secrets.randbelow(2**62) + 1  # 0 is "never claimed"; fits a BIGINT
    claim = _claim(
        NotificationRow.key, store, and_(*conditions), owner, now + lease, limit, lease_token=token
    )
    return NotificationClaim(claim.names, claim.taken_over, token)


def still_mine(session: Session, row: NotificationRow, owner: str, until: datetime) -> bool:
    """Renew a claimed row's lease just before sending it; False if the claim that read the
    row (its ``lease_token``) no longer holds it: another replica, or a later claim of this
    one, took it over while this one stalled, so it must not send. A lease that ran out but
    that no one took over still holds: no one else can have sent the row."""
    return row.id in renew_notifications(session, [row.id], owner, row.lease_token, until)


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


@dataclass(slots=True)
class NotificationClaim(Claim):
    # Written into every row of the claim; writes that renew or end the work check it (with
    # the owner), so a claim taken over, even by a later claim of the same owner, writes nothing.
    token: int = 0


def _earlier_pending(table):
    """Rows of ``table`` behind a pending row of the same story and channel (see
    :func:`claim_notifications`)."""
    earlier = aliased(NotificationRow)
    return exists().where(
        earlier.story_id == table.story_id,
        earlier.channel == table.channel,
        earlier.id < table.id,
        earlier.state == "pending",
    )


def holding(owner: str, token: int):
    """The fence on a write that ends (or renews) a claimed row's work: it applies only while
    the claim that read the row still holds it."""
    return and_(NotificationRow.lease_owner == owner, NotificationRow.lease_token == token)


def renew_notifications(
    session: Session, ids: Sequence[int], owner: str, token: int, until: datetime
) -> set[int]:
    """Extend a claim's lease on the rows it has yet to send; returns the ids it still holds.

    A sender renews, before each send, the row it is about to send and those waiting behind
    it in its batch, so a batch slower than the lease does not lose its tail to another
    replica, which would then send those rows while this one still means to.
    """
    if not ids:
        return set()
    result = session.execute(
        update(NotificationRow)
        .where(
            col(NotificationRow.id).in_(list(ids)),
            holding(owner, token),
            NotificationRow.state == "pending",
        )
        .values(lease_until=until)
        .returning(NotificationRow.id)
    )
    held = set(result.scalars())
    session.commit()
    return held


def follows_pending(session: Session, row: NotificationRow) -> bool:
    """Whether an earlier row of ``row``'s story and channel is still pending, checked again
    just before a send: on PostgreSQL a row's id is drawn before the row commits, so an
    earlier row can become visible after a later one was claimed."""
    earlier = session.exec(
        select(NotificationRow.id).where(
            NotificationRow.id == row.id, _earlier_pending(NotificationRow)
        )
    ).first()
    return earlier is not None
