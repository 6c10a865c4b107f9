"""The outbox's SQL: claims on notification rows, the fenced writes, and what was sent where.

Every query about ``notifications`` lives here; ``alerting`` writes rows through it and
``delivery`` claims, renews and records them through it. A claim writes a token of its own into
its rows, and the writes that renew or end a row's work carry it with the owner (the fence), so a
claim that was taken over, even by a later claim of the same owner, writes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from monitor.delivery.states import OutboxState
from monitor.models import AlertView
from monitor.store.claims import Claim, claim_rows, free, release_rows
from monitor.store.db import Store
from monitor.store.tables import NotificationRow, utcnow
from monitor.util.dates import as_utc

PENDING = OutboxState.PENDING.value  # the one state the queries here select on


@dataclass(slots=True)
class NotificationClaim(Claim):
    # Written into every row of the claim; writes that renew or end the work check it (with
    # the owner), so a claim taken over, even by a later claim of the same owner, writes nothing.
    token: int = 0


def holding(owner: str, token: int):
    """The fence on a write that ends (or renews) a claimed row's work: it applies only while
    the claim that read the row still holds it."""
    return and_(NotificationRow.lease_owner == owner, NotificationRow.lease_token == token)


def _earlier_pending(table):
    """Rows of ``table`` behind a pending row of the same story and channel (see
    :func:`claim_notifications`)."""
    earlier = aliased(NotificationRow)
    return exists().where(
        earlier.story_id == table.story_id,
        earlier.channel == table.channel,
        earlier.id < table.id,
        earlier.state == PENDING,
    )


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
        table.state == PENDING,
        table.next_attempt <= now,
        free(table, owner, now),
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
    claim = claim_rows(
        NotificationRow.key, store, and_(*conditions), owner, now + lease, limit, lease_token=token
    )
    return NotificationClaim(claim.names, claim.taken_over, token)


def release_notifications(
    store: Store, keys: Sequence[str], owner: str, token: int | None = None
) -> None:
    """Give unsent rows back (at shutdown, or a row that must wait for an earlier one), so no
    one need wait out the lease; with ``token``, only what that claim still holds."""
    if token is None:
        release_rows(store, NotificationRow.key, keys, owner)
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
            NotificationRow.state == PENDING,
        )
        .values(lease_until=until)
        .returning(NotificationRow.id)
    )
    held = set(result.scalars())
    session.commit()
    return held


def still_mine(session: Session, row: NotificationRow, owner: str, until: datetime) -> bool:
    """Renew a claimed row's lease just before sending it; False if the claim that read the
    row (its ``lease_token``) no longer holds it: another replica, or a later claim of this
    one, took it over while this one stalled, so it must not send. A lease that ran out but
    that no one took over still holds: no one else can have sent the row."""
    return row.id in renew_notifications(session, [row.id], owner, row.lease_token, until)


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


def claimed_rows(store: Store, keys: Sequence[str]) -> list[NotificationRow]:
    """The rows of a claim, in the order they were written."""
    with store.session() as session:
        return list(
            session.exec(
                select(NotificationRow)
                .where(col(NotificationRow.key).in_(list(keys)))
                .order_by(NotificationRow.id)
            ).all()
        )


def record_outcome(store: Store, row: NotificationRow, owner: str, token: int) -> bool:
    """Write a send's outcome, and only that: the row's content is not the sender's to write
    back (it was read before the send). Fenced: False, and nothing written, when the claim no
    longer holds the row, since the replica that took it over owns its outcome now."""
    with store.session() as session:
        result = session.execute(
            update(NotificationRow)
            .where(col(NotificationRow.id) == row.id, holding(owner, token))
            .values(
                state=row.state,
                attempts=row.attempts,
                next_attempt=row.next_attempt,
                last_error=row.last_error,
                sent=row.sent,
                lease_owner="",
                lease_until=None,
            )
        )
        session.commit()
    return result.rowcount == 1


@dataclass(slots=True)
class SentLedger:
    """What one channel has had about a story's alerts (each keyed by alert id): the last
    revision given to it, when a message about the alert was last sent, and the last revision
    a sent message carried."""

    given: dict[str, int] = field(default_factory=dict)
    last_sent: dict[str, datetime] = field(default_factory=dict)
    sent_upto: dict[str, int] = field(default_factory=dict)


def sent_ledger(session: Session, story: str, channel: str) -> SentLedger:
    """The :class:`SentLedger` of a story on a channel, digests included."""
    rows = session.exec(
        select(NotificationRow).where(
            col(NotificationRow.story_id).in_([story, ""]), NotificationRow.channel == channel
        )
    ).all()
    ledger = SentLedger()
    for row in rows:
        for alert_id, (_, upto) in (row.alerts or {}).items():
            ledger.given[alert_id] = max(ledger.given.get(alert_id, 0), upto)
            if row.sent is not None:
                when = as_utc(row.sent)
                ledger.last_sent[alert_id] = max(ledger.last_sent.get(alert_id, when), when)
                ledger.sent_upto[alert_id] = max(ledger.sent_upto.get(alert_id, 0), upto)
    return ledger


def untried_row(session: Session, scope: str, channel: str, kind: str) -> NotificationRow | None:
    """The pending row of that kind no send has tried and no replica holds, locked so no
    replica claims it while it is folded into; None if there is none."""
    now = utcnow()
    return session.exec(
        select(NotificationRow)
        .where(
            NotificationRow.story_id == scope,
            NotificationRow.channel == channel,
            NotificationRow.kind == kind,
            NotificationRow.state == PENDING,
            NotificationRow.attempts == 0,
            or_(col(NotificationRow.lease_until).is_(None), NotificationRow.lease_until < now),
        )
        .with_for_update()
    ).first()


def next_key(session: Session, scope: str, channel: str, kind: str) -> str:
    """The idempotency key of the next row of a story (or of the digests) on a channel."""
    count = len(
        session.exec(
            select(NotificationRow.id).where(
                NotificationRow.story_id == scope, NotificationRow.channel == channel
            )
        ).all()
    )
    return f"{scope or 'digest'}:{channel}:{kind}:{count + 1}"


def fold_into(
    session: Session, row: NotificationRow, alert_id: str, since: int, revision: int
) -> None:
    """Widen an untried row to the alert's revisions up to ``revision`` (the first revision it
    reports stays as it was)."""
    alerts = dict(row.alerts or {})
    start = alerts.get(alert_id, [since, since])[0]
    alerts[alert_id] = [start, revision]
    row.alerts = alerts
    session.add(row)


def write_notification(session: Session, row: NotificationRow) -> None:
    """Add a new outbox row, flushed so the next key and fold in this transaction see it."""
    session.add(row)
    session.flush()


def deliveries(session: Session, alert: AlertView) -> list[dict]:
    """Every notification row that covers an alert: what went where, and how it went."""
    rows = session.exec(
        select(NotificationRow)
        .where(col(NotificationRow.story_id).in_([alert.story, ""]))  # its story, or digests
        .order_by(NotificationRow.id)
    ).all()
    return [
        {
            "key": row.key,
            "channel": row.channel,
            "kind": row.kind,
            "state": row.state,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "next_attempt": row.next_attempt.isoformat() if row.state == PENDING else "",
            "sent": row.sent.isoformat() if row.sent else "",
        }
        for row in rows
        if alert.id in (row.alerts or {})
    ]
