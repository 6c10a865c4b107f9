"""The outbox: notifications are rows first and sends second.

``enqueue`` writes one row per (alert, channel, revision) before anything is sent; ``deliver``
sends due rows and records the outcome. A crash between the two leaves a pending row that the
next ``deliver`` sends; the row's key is the idempotency key a channel can use to drop a copy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from monitor.alerts import load_alert
from monitor.config import RouteConfig
from monitor.notify.base import Notifier, NotifyError
from monitor.notify.routes import channels_for
from monitor.store import Store
from monitor.store.tables import NotificationRow, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = 30.0  # seconds; doubles with each attempt
BACKOFF_MAX = 3600.0


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0


def enqueue(session: Session, alert_ids: list[str], routes: list[RouteConfig]) -> int:
    """Write the notifications that changed alerts call for; returns how many were written."""
    written = 0
    for alert_id in alert_ids:
        alert = load_alert(session, alert_id)
        if alert is None:
            continue
        already = session.exec(
            select(NotificationRow.channel).where(NotificationRow.alert_id == alert_id)
        ).all()
        for kind in ("new", "update"):
            for channel in channels_for(routes, alert, kind):
                if (kind == "new") == (channel in already):
                    continue
                key = f"{alert_id}:{channel}:{alert.revision}"
                if session.exec(
                    select(NotificationRow.id).where(NotificationRow.key == key)
                ).first():
                    continue
                session.add(
                    NotificationRow(
                        key=key,
                        alert_id=alert_id,
                        channel=channel,
                        revision=alert.revision,
                        kind=kind,
                    )
                )
                written += 1
    return written


def deliver(store: Store, notifiers: Mapping[str, Notifier]) -> DeliveryReport:
    """Send every due pending notification, oldest first, recording each outcome."""
    report = DeliveryReport()
    now = utcnow()
    with store.session() as session:
        due = session.exec(
            select(NotificationRow)
            .where(NotificationRow.state == "pending", NotificationRow.next_attempt <= now)
            .order_by(NotificationRow.id)
        ).all()
    for row in due:
        with store.session() as session:
            alert = load_alert(session, row.alert_id)
        notifier = notifiers.get(row.channel)
        row.attempts += 1
        try:
            if alert is None:
                raise NotifyError(f"alert {row.alert_id} is gone", retryable=False)
            if notifier is None:
                raise NotifyError(f"no channel named '{row.channel}' is configured", False)
            notifier.notify(alert, row.kind, row.key)
        except NotifyError as exc:
            _failed(row, str(exc), exc.retryable, exc.retry_after, report)
        except Exception as exc:  # a channel bug must not stop the others
            log.exception("channel %s raised on notification %s", row.channel, row.key)
            _failed(row, f"{type(exc).__name__}: {exc}", True, None, report)
        else:
            row.state, row.sent, row.last_error = "sent", utcnow(), ""
            report.sent += 1
        with store.session() as session:
            session.add(row)
            session.commit()
    return report


def _failed(
    row: NotificationRow,
    error: str,
    retryable: bool,
    retry_after: float | None,
    report: DeliveryReport,
) -> None:
    row.last_error = error
    if retryable and row.attempts < MAX_ATTEMPTS:
        delay = retry_after or min(BACKOFF_BASE * 2 ** (row.attempts - 1), BACKOFF_MAX)
        row.next_attempt = utcnow() + timedelta(seconds=delay)
        report.retrying += 1
        log.warning(
            "notification %s failed (attempt %d), retry in %.0fs: %s",
            row.key,
            row.attempts,
            delay,
            error,
        )
    else:
        row.state = "failed"
        report.failed += 1
        log.error(
            "notification %s failed for good after %d attempts: %s", row.key, row.attempts, error
        )
