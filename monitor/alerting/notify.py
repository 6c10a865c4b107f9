"""Alerting's output: the outbox rows that changed alerts call for, written before any send.

A story's first notice lists every rule it matched (grouped by story, as Alertmanager groups by
label), a later source becomes a follow-up, a digest route gathers its stories into one message
per interval, and a silenced alert is recorded but not sent: the writing chain
(:mod:`monitor.delivery.stages`) decides which, per alert, route and channel. While a row has
not been tried yet, later changes to the same story fold into it (``group_wait``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from monitor.alerting.alerts import load_alert
from monitor.alerting.routes import routes_for
from monitor.alerting.silences import active_silences
from monitor.config import DeliveryConfig, RouteConfig
from monitor.delivery.stages import Chain
from monitor.delivery.stages.dedup import Dedup
from monitor.delivery.stages.group import Group
from monitor.delivery.stages.mute import Mute
from monitor.delivery.stages.writing import Candidate, WriteContext
from monitor.delivery.states import OutboxState, initial
from monitor.store.alerts import mark_queued
from monitor.store.notifications import (
    fold_into,
    next_key,
    sent_ledger,
    untried_row,
    write_notification,
)
from monitor.store.tables import NotificationRow, utcnow

# Dedup first: what a channel already has is neither muted nor grouped (nor logged as silenced).
WRITING = Chain[WriteContext, Candidate](Dedup(), Mute(), Group())


def enqueue(
    session: Session,
    alert_ids: list[str],
    routes: list[RouteConfig],
    delivery: DeliveryConfig | None = None,
) -> int:
    """Write (or fold into pending rows) the notifications that changed alerts call for.

    Returns how many new rows were written. Each candidate goes through the chain and is
    written before the next is looked at, so a channel two routes name sees the first's row.
    """
    delivery = delivery or DeliveryConfig()
    now = utcnow()
    deadline = now + timedelta(seconds=delivery.max_age)
    ctx = WriteContext(now=now, silences=active_silences(session, now))
    written = 0
    for alert_id in dict.fromkeys(alert_ids):
        alert = load_alert(session, alert_id)
        if alert is None:
            continue
        mark_queued(session, alert_id, alert.revision)  # its rows are written (Service.notify)
        for route in routes_for(routes, alert):
            for channel in route.channels:
                ledger = sent_ledger(session, alert.story, channel)
                for candidate in WRITING.run(ctx, [Candidate.of(alert, route, channel, ledger)]):
                    written += fold(session, candidate, now, deadline)
    return written


def fold(session: Session, candidate: Candidate, now: datetime, deadline: datetime) -> bool:
    """Add the candidate's revisions to the untried row of the same kind, or write a new row.

    A row some replica has claimed is being sent with the content it had when claimed, so it
    is not folded into; the row is locked while it is folded into, so no replica claims it
    halfway. Returns True when a new row was written.
    """
    alert, kind, channel = candidate.alert, candidate.kind, candidate.channel
    since = candidate.since or 0
    scope = "" if kind == "digest" else alert.story
    pending = None
    if candidate.state == OutboxState.PENDING:
        pending = untried_row(session, scope, channel, kind)
    if pending is not None:
        fold_into(session, pending, alert.id, since, alert.revision)
        return False
    write_notification(
        session,
        NotificationRow(
            key=next_key(session, scope, channel, kind),
            story_id=scope,
            channel=channel,
            kind=kind,
            state=initial(candidate.state),
            alerts={alert.id: [since, alert.revision]},
            next_attempt=now + timedelta(seconds=candidate.wait),
            deadline=deadline,
        ),
    )
    return True
