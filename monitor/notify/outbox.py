"""The outbox: notifications are rows first and sends second.

``enqueue`` turns changed alerts into rows, one per message to one channel, before anything is
sent: a story's first notice lists every rule it matched (grouped by story, as Alertmanager
groups by label), a later source becomes a follow-up, a digest route gathers its stories into
one message per interval, and a silenced alert is recorded but not sent. While a row has not
been tried yet, later changes to the same story fold into it (``group_wait``).

``deliver`` sends the rows that are due and records each outcome, retrying with backoff until
the row's deadline. A crash between the two leaves a pending row that the next ``deliver``
sends; the row's key is the idempotency key a channel can use to drop a second copy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from monitor.alerts import load_alert
from monitor.config import DeliveryConfig, RouteConfig
from monitor.dates import as_utc
from monitor.failpoints import failpoint
from monitor.leases import (
    claim_notifications,
    new_replica_id,
    release_notifications,
    still_mine,
)
from monitor.metrics import Metrics
from monitor.models import AlertView
from monitor.notify.base import Message, Notifier, NotifyError
from monitor.notify.routes import routes_for
from monitor.silences import active_silences, silenced_by
from monitor.store import Store
from monitor.store.tables import AlertRow, NotificationRow, utcnow

log = logging.getLogger(__name__)

# Kept as rows so the history is complete, but never sent.
RECORDED_ONLY = ("silenced", "skipped")


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0


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
    halfway (see :mod:`monitor.leases`). Returns True when a new row was written.
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
    """Who delivers, and for how long a claimed row is theirs (see :mod:`monitor.leases`)."""

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
    each outcome. A row another replica holds is left to it."""
    delivery = delivery or DeliveryConfig()
    sender = sender or Sender()
    report = DeliveryReport()
    claim = claim_notifications(store, sender.owner, utcnow(), sender.lease)
    claim.note_takeover("send(s)", sender.metrics)
    with store.session() as session:
        due = session.exec(
            select(NotificationRow)
            .where(col(NotificationRow.key).in_(claim.names))
            .order_by(NotificationRow.id)
        ).all()
    for n, row in enumerate(due):
        if sender.should_stop():  # the rest stay pending for the next start or replica
            release_notifications(store, [r.key for r in due[n:]], sender.owner)
            break
        with store.session() as session:
            if not still_mine(session, row, sender.owner, utcnow() + sender.lease):
                continue
            message = build_message(session, row)
        notifier = notifiers.get(row.channel)
        row.attempts += 1
        try:
            if not message.alerts:
                raise NotifyError(f"the alerts of notification {row.key} are gone", False)
            if notifier is None:
                raise NotifyError(f"no channel named '{row.channel}' is configured", False)
            notifier.send(message)
        except NotifyError as exc:
            _failed(row, str(exc), exc.retryable, exc.retry_after, delivery, report)
        except Exception as exc:  # a channel bug must not stop the others
            log.exception(
                "channel %s raised on notification %s",
                row.channel,
                row.key,
                extra={"channel": row.channel, "notification": row.key},
            )
            _failed(row, f"{type(exc).__name__}: {exc}", True, None, delivery, report)
        else:
            failpoint("after-send")
            row.state, row.sent, row.last_error = "sent", utcnow(), ""
            report.sent += 1
            log.info(
                "notification %s sent to %s",
                row.key,
                row.channel,
                extra={"channel": row.channel, "notification": row.key, "story": row.story_id},
            )
        if sender.metrics:
            outcome = "retrying" if row.state == "pending" else row.state  # sent, failed
            sender.metrics.deliveries.labels(row.channel, outcome).inc()
            if row.sent is not None:
                waited = (as_utc(row.sent) - as_utc(row.created)).total_seconds()
                sender.metrics.delivery_latency.labels(row.channel).observe(max(waited, 0.0))
        _record(store, row)
    return report


def _record(store: Store, row: NotificationRow) -> None:
    """Write a send's outcome, and only that: the row's content is not this sender's to
    write back (it was read before the send)."""
    with store.session() as session:
        session.execute(
            update(NotificationRow)
            .where(col(NotificationRow.id) == row.id)
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


def _failed(
    row: NotificationRow,
    error: str,
    retryable: bool,
    retry_after: float | None,
    delivery: DeliveryConfig,
    report: DeliveryReport,
) -> None:
    row.last_error = error
    delay = retry_after or min(delivery.backoff * 2 ** (row.attempts - 1), delivery.max_backoff)
    retry_at = utcnow() + timedelta(seconds=delay)
    if retryable and (row.deadline is None or retry_at <= as_utc(row.deadline)):
        row.next_attempt = retry_at
        report.retrying += 1
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
        report.failed += 1
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
