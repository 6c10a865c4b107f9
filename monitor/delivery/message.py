"""A claimed row as the message a channel sends, read from the store when it is due."""

from __future__ import annotations

from sqlmodel import Session

from monitor.alerting.alerts import load_alert
from monitor.delivery.channels.base import Message
from monitor.models import AlertView
from monitor.store.tables import NotificationRow


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
