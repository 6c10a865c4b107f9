"""The feed-health alert: an ordinary alert of its own rule, about a story that is a feed.

Whether a feed needs attention is the poller's judgement (:mod:`monitor.ingest.health`);
saying so is alerting's, so the alert is written like any other, through the store's alert
functions, and a new one is counted in ``monitor_alerts`` with the rule ``feed-health``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlmodel import Session

from monitor.alerting.alerts import AlertChange, alert_id_for
from monitor.store.alerts import AlertSpec, revise_alert
from monitor.store.stories import touch_story

if TYPE_CHECKING:
    from monitor.service.metrics import Metrics

RULE_ID = "feed-health"


def story_id(feed_name: str) -> str:
    return f"feed:{feed_name}"


def open_feed_alert(
    session: Session, feed_name: str, headline: str, now: datetime, metrics: Metrics | None = None
) -> AlertChange:
    """Write (or re-open, as its next revision) the feed's health alert and its story."""
    story = story_id(feed_name)
    touch_story(session, story, headline, now)
    spec = AlertSpec(
        id=alert_id_for(RULE_ID, story),
        rule_id=RULE_ID,
        story_id=story,
        title=f"Feed needs attention: {feed_name}",
        severity="warning",
        rule_version="1",
        tags=(RULE_ID,),
    )
    change = AlertChange(spec.id, revise_alert(session, spec, now))
    if change.created and metrics is not None:
        _after_commit(session, metrics.alerts.labels(RULE_ID).inc)
    return change


def _after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run ``action`` once the session's transaction commits, as the pipeline counts only
    what a commit kept: a rolled-back alert was never created."""
    event.listen(session, "after_commit", lambda _session: action(), once=True)
