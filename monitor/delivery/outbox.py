"""The outbox: notifications are rows first and sends second.

``enqueue`` turns changed alerts into rows, one per message to one channel, before anything is
sent: a story's first notice lists every rule it matched (grouped by story, as Alertmanager
groups by label), a later source becomes a follow-up, a digest route gathers its stories into
one message per interval, and a silenced alert is recorded but not sent. While a row has not
been tried yet, later changes to the same story fold into it (``group_wait``).

``deliver`` sends the rows that are due and records each outcome, retrying with backoff until
the row's deadline. A crash between the two leaves a pending row that the next ``deliver``
sends; the row's key is the idempotency key a channel can use to drop a second copy.

Per story and channel the rows go out in order: one waits while an earlier one is pending, under
retries and across replicas (see :func:`monitor.service.leases.claim_notifications`). A claimed row
is sent under its claim's lease, renewed before each send, and its outcome is written only while the
claim still holds it: a replica that stalled past its lease and lost the row to another writes
nothing, and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from monitor.alerting.alerts import load_alert
from monitor.alerting.routes import routes_for
from monitor.alerting.silences import active_silences, silenced_by
from monitor.config import DeliveryConfig, RouteConfig
from monitor.delivery.channels.base import Message, Notifier, NotifyError
from monitor.models import AlertView
from monitor.service.leases import (
    NotificationClaim,
    claim_notifications,
    follows_pending,
    holding,
    new_replica_id,
    release_notifications,
    renew_notifications,
)
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store.tables import AlertRow, NotificationRow, utcnow
from monitor.util.dates import as_utc
from monitor.util.durations import backoff
from monitor.util.failpoints import failpoint

log = logging.getLogger(__name__)

# Kept as rows so the history is complete, but never sent.
RECORDED_ONLY = ("silenced", "skipped")


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    # Rows another replica took over from this one: not sent, or their outcome not written.
    lost: int = 0


def _reported(
    session: Session, story: str, channel: str
) -> tuple[dict[str, int], dict[str, datetime], dict[str, int]]:
    """For each alert of a story: the last revision already given to a channel, when a
    message about it was last sent there, and the last revision that message carried."""
    rows = session.exec(
        select(NotificationRow).where(
            col(NotificationRow.story_id).in_([story, ""]), NotificationRow.channel == channel
        )
    ).all()
    last: dict[str, int] = {}
    sent: dict[str, datetime] = {}
    sent_upto: dict[str, int] = {}
    for row in rows:
        for alert_id, (_, upto) in (row.alerts or {}).items():
            last[alert_id] = max(last.get(alert_id, 0), upto)
            if row.sent is not None:
                when = as_utc(row.sent)
                sent[alert_id] = max(sent.get(alert_id, when), when)
                sent_upto[alert_id] = max(sent_upto.get(alert_id, 0), upto)
    return last, sent, sent_upto


def _fold(
    session: Session,
    *,
    story: str,
    channel: str,
    kind: str,
    alert: AlertView,
    since: int,
    due: datetime,
    deadline: datetime,
    state: str = "pending",
) -> bool:
    """Add an alert's revisions to the untried row of the same kind, or write a new row.

    A row some replica has claimed is being sent with the content it had when claimed, so it
    is not folded into; the row is locked while it is folded into, so no replica claims it
    halfway (see :mod:`monitor.service.leases`). Returns True when a new row was written.
    """
    scope = "" if kind == "digest" else story
    pending = None
    if state == "pending":
        now = utcnow()
        pending = session.exec(
            select(NotificationRow)
            .where(
                NotificationRow.story_id == scope,
                NotificationRow.channel == channel,
                NotificationRow.kind == kind,
                NotificationRow.state == "pending",
                NotificationRow.attempts == 0,
                or_(col(NotificationRow.lease_until).is_(None), NotificationRow.lease_until < now),
            )
            .with_for_update()
        ).first()
    if pending is not None:
        alerts = dict(pending.alerts or {})
        start = alerts.get(alert.id, [since, since])[0]
        alerts[alert.id] = [start, alert.revision]
        pending.alerts = alerts
        session.add(pending)
        return False
    count = len(
        session.exec(
            select(NotificationRow.id).where(
                NotificationRow.story_id == scope, NotificationRow.channel == channel
            )
        ).all()
    )
    key = f"{scope or 'digest'}:{channel}:{kind}:{count + 1}"
    session.add(
        NotificationRow(
            key=key,
            story_id=scope,
            channel=channel,
            kind=kind,
            state=state,
            alerts={alert.id: [since, alert.revision]},
            next_attempt=due,
            deadline=deadline,
        )
    )
    session.flush()
    return True


def enqueue(
    session: Session,
    alert_ids: list[str],
    routes: list[RouteConfig],
    delivery: DeliveryConfig | None = None,
) -> int:
    """Write (or fold into pending rows) the notifications that changed alerts call for.

    Returns how many new rows were written.
    """
    delivery = delivery or DeliveryConfig()
    now = utcnow()
    deadline = now + timedelta(seconds=delivery.max_age)
    silences = active_silences(session, now)
    written = 0
    for alert_id in dict.fromkeys(alert_ids):
        alert = load_alert(session, alert_id)
        if alert is None:
            continue
        row = session.get(AlertRow, alert_id)
        if row is not None and row.queued != alert.revision:
            row.queued = alert.revision  # this revision has had its rows (see Service.notify)
            session.add(row)
        silence = silenced_by(silences, alert)
        for route in routes_for(routes, alert):
            for channel in route.channels:
                reported, last_sent, sent_upto = _reported(session, alert.story, channel)
                since = reported.get(alert.id)
                if since is not None and since >= alert.revision:
                    continue
                kind, wait = "new", route.group_wait
                if since is not None:
                    kind, wait = "update", route.group_interval
                    if route.updates == "digest":
                        kind, wait = "digest", route.digest_interval
                if route.mode == "digest":
                    kind, wait = "digest", route.digest_interval
                state = "pending"
                if silence is not None:
                    state = "silenced"
                    log.info(
                        "alert %s silenced by silence %s (%s)", alert.id, silence.id, silence.reason
                    )
                elif since is not None and route.updates == "none":
                    state = "skipped"
                    # repeat_interval: a story that keeps growing while follow-ups are off is
                    # announced again once that long has passed since its last message.
                    previous = last_sent.get(alert.id)
                    repeat = route.repeat_interval
                    if repeat and previous and now - previous >= timedelta(seconds=repeat):
                        state = "pending"  # with every source since the last message
                        since = sent_upto.get(alert.id, since)
                written += _fold(
                    session,
                    story=alert.story,
                    channel=channel,
                    kind=kind,
                    alert=alert,
                    since=since or 0,
                    due=now + timedelta(seconds=wait),
                    deadline=deadline,
                    state=state,
                )
    return written


def build_message(session: Session, row: NotificationRow) -> Message:
    alerts: list[AlertView] = []
    new_sources: dict[str, list[str]] = {}
    for alert_id, (since, upto) in (row.alerts or {}).items():
        alert = load_alert(session, alert_id)
        if alert is None:
            continue
        alerts.append(alert)
        by_arrival = sorted(alert.citations, key=lambda c: c.seq)
        # Only the row's own revisions: later ones belong to a later row, which would
        # announce them a second time (a retried row, or one another replica was sending).
        new_sources[alert_id] = [c.id for c in by_arrival[since:upto]]
    headline = alerts[0].headline if alerts and row.kind != "digest" else "Digest"
    return Message(
        key=row.key,
        channel=row.channel,
        kind=row.kind,
        story=row.story_id,
        headline=headline,
        alerts=alerts,
        new_sources=new_sources,
    )


@dataclass(slots=True)
class Sender:
    """Who delivers, and for how long a claimed row is theirs (:mod:`monitor.service.leases`)."""

    owner: str = field(default_factory=new_replica_id)
    lease: timedelta = timedelta(minutes=5)
    metrics: Metrics | None = None
    should_stop: Callable[[], bool] = lambda: False


def deliver(
    store: Store,
    notifiers: Mapping[str, Notifier],
    delivery: DeliveryConfig | None = None,
    sender: Sender | None = None,
) -> DeliveryReport:
    """Send every due pending notification this replica can claim, oldest first, recording
    each outcome. A row another replica holds is left to it.

    Per story and channel, rows go out in the order they were written (see
    :func:`monitor.service.leases.claim_notifications`): a row waits while an earlier one is
    pending, even one waiting for its retry, and goes once that one is sent or has failed for good.
    It then goes as written: a follow-up whose first notice failed for good is still a follow-up,
    and reports only its own new sources (the failure is logged and counted). Rows a send let go are
    claimed again at once, so a follow-up does not wait for the next call.
    """
    delivery = delivery or DeliveryConfig()
    sender = sender or Sender()
    report = DeliveryReport()
    tried: set[str] = set()
    only: set[tuple[str, str]] | None = None  # after the first batch: what a send let go
    while not sender.should_stop():
        claim = claim_notifications(
            store, sender.owner, utcnow(), sender.lease, only=only, skip=tried
        )
        claim.note_takeover("send(s)", sender.metrics)
        if not claim.names:
            break
        only = _send_batch(store, notifiers, delivery, sender, claim, report, tried)
        if not only:
            break
    return report


def _send_batch(
    store: Store,
    notifiers: Mapping[str, Notifier],
    delivery: DeliveryConfig,
    sender: Sender,
    claim: NotificationClaim,
    report: DeliveryReport,
    tried: set[str],
) -> set[tuple[str, str]]:
    """Send a claim's rows in order; returns the (story, channel) pairs whose row ended here
    (sent, or failed for good), since the rows after those may go now.

    Every write is fenced by the claim (owner and token): before each send the lease is
    renewed on that row and on those still waiting behind it, and a row lost meanwhile is not
    sent; a send's outcome is written only if the claim still holds the row.
    """
    with store.session() as session:
        due = session.exec(
            select(NotificationRow)
            .where(col(NotificationRow.key).in_(claim.names))
            .order_by(NotificationRow.id)
        ).all()
    ended: set[tuple[str, str]] = set()
    for n, row in enumerate(due):
        if sender.should_stop():  # the rest stay pending for the next start or replica
            release_notifications(store, [r.key for r in due[n:]], sender.owner, claim.token)
            break
        message = _prepare(store, row, [r.id for r in due[n:]], sender, claim.token)
        if message is None:
            tried.add(row.key)
            _lost(row, "is not sent: another replica took it over first", sender, report)
            continue
        if message is _WAIT:  # not tried: it may go once the earlier one ends
            release_notifications(store, [row.key], sender.owner, claim.token)
            continue
        tried.add(row.key)
        _send(row, message, notifiers.get(row.channel), delivery)
        if not _record(store, row, sender.owner, claim.token):
            outcome = "sent" if row.state == "sent" else f"{row.state}: {row.last_error}"
            _lost(row, f"its outcome ({outcome}) is not recorded", sender, report)
            continue
        if row.state == "pending":
            report.retrying += 1
        else:
            report.sent += row.state == "sent"
            report.failed += row.state == "failed"
            ended.add((row.story_id, row.channel))
        if sender.metrics:
            outcome = "retrying" if row.state == "pending" else row.state  # sent, failed
            sender.metrics.deliveries.labels(row.channel, outcome).inc()
            if row.sent is not None:
                waited = (as_utc(row.sent) - as_utc(row.created)).total_seconds()
                sender.metrics.delivery_latency.labels(row.channel).observe(max(waited, 0.0))
    return ended


# What _prepare answers for a row that must wait for an earlier one of its story.
_WAIT = Message(key="", channel="", kind="", story="", headline="", alerts=[])


def _prepare(
    store: Store, row: NotificationRow, batch: list[int], sender: Sender, token: int
) -> Message | None:
    """Renew the claim on ``row`` and the rows waiting behind it, then build its message;
    None if the claim lost the row, :data:`_WAIT` if an earlier row of its story and channel
    is still pending (see :func:`monitor.service.leases.follows_pending`)."""
    with store.session() as session:
        held = renew_notifications(session, batch, sender.owner, token, utcnow() + sender.lease)
        if row.id not in held:
            return None
        if follows_pending(session, row):
            log.info(
                "notification %s waits: an earlier message of its story to %s is pending",
                row.key,
                row.channel,
                extra={"channel": row.channel, "notification": row.key},
            )
            return _WAIT
        return build_message(session, row)


def _send(
    row: NotificationRow, message: Message, notifier: Notifier | None, delivery: DeliveryConfig
) -> None:
    """One attempt: the row's state, attempts, error and next attempt say how it went."""
    row.attempts += 1
    try:
        if not message.alerts:
            raise NotifyError(f"the alerts of notification {row.key} are gone", False)
        if notifier is None:
            raise NotifyError(f"no channel named '{row.channel}' is configured", False)
        notifier.send(message)
    except NotifyError as exc:
        _failed(row, str(exc), exc.retryable, exc.retry_after, delivery)
    except Exception as exc:  # a channel bug must not stop the others
        log.exception(
            "channel %s raised on notification %s",
            row.channel,
            row.key,
            extra={"channel": row.channel, "notification": row.key},
        )
        _failed(row, f"{type(exc).__name__}: {exc}", True, None, delivery)
    else:
        failpoint("after-send")
        row.state, row.sent, row.last_error = "sent", utcnow(), ""
        log.info(
            "notification %s sent to %s",
            row.key,
            row.channel,
            extra={"channel": row.channel, "notification": row.key, "story": row.story_id},
        )


def _record(store: Store, row: NotificationRow, owner: str, token: int) -> bool:
    """Write a send's outcome, and only that: the row's content is not this sender's to
    write back (it was read before the send). Fenced: False, and nothing written, when the
    claim no longer holds the row, since the replica that took it over owns its outcome now."""
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


def _lost(row: NotificationRow, what: str, sender: Sender, report: DeliveryReport) -> None:
    """Say that a lease was lost, since it means a stall as long as the lease (or a clock
    off by that much), and, for a send already made, that the channel may get it twice."""
    report.lost += 1
    log.warning(
        "notification %s to %s: lease lost to another replica, %s",
        row.key,
        row.channel,
        what,
        extra={"channel": row.channel, "notification": row.key, "replica": sender.owner},
    )
    if sender.metrics is not None:
        sender.metrics.leases_lost.labels("send").inc()


def _failed(
    row: NotificationRow,
    error: str,
    retryable: bool,
    retry_after: float | None,
    delivery: DeliveryConfig,
) -> None:
    row.last_error = error
    delay = retry_after or (
        backoff(
            timedelta(seconds=delivery.backoff),
            row.attempts - 1,
            timedelta(seconds=delivery.max_backoff),
        ).total_seconds()
    )
    retry_at = utcnow() + timedelta(seconds=delay)
    if retryable and (row.deadline is None or retry_at <= as_utc(row.deadline)):
        row.next_attempt = retry_at
        log.warning(
            "notification %s to %s failed (attempt %d), retry in %.0fs: %s",
            row.key,
            row.channel,
            row.attempts,
            delay,
            error,
            extra={"channel": row.channel, "notification": row.key},
        )
    else:
        row.state = "failed"
        log.error(
            "notification %s to %s failed for good after %d attempt(s): %s",
            row.key,
            row.channel,
            row.attempts,
            error,
            extra={"channel": row.channel, "notification": row.key},
        )


def deliveries(session: Session, alert: AlertView) -> list[dict]:
    """Every notification row that covers an alert: what went where, and how it went."""
    rows = session.exec(
        select(NotificationRow)
        .where(col(NotificationRow.story_id).in_([alert.story, ""]))  # its story, or digests
        .order_by(NotificationRow.id)
    ).all()
    alert_id = alert.id
    return [
        {
            "key": row.key,
            "channel": row.channel,
            "kind": row.kind,
            "state": row.state,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "next_attempt": row.next_attempt.isoformat() if row.state == "pending" else "",
            "sent": row.sent.isoformat() if row.sent else "",
        }
        for row in rows
        if alert_id in (row.alerts or {})
    ]
