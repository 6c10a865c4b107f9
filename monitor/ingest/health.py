"""Feed health: when a feed is failing or silent far past its usual rhythm, say so as an alert.

A feed that silently stops is the worst failure for analysts: no alert looks exactly like "no
violations reported". So a feed failing for several of its intervals, or bringing nothing new
for several of its usual gaps between items, raises an ordinary alert (rule ``feed-health``,
severity ``warning``, story ``feed:<name>``), and that alert goes through the same outbox,
routes and channels as any other. It is raised once per episode; when the feed recovers the
episode closes, and a later episode updates the same alert (a new revision), which routes
deliver as an update. This module judges the feed; :mod:`monitor.alerting.health` writes the
alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from monitor.alerting.health import open_feed_alert
from monitor.ingest.urls import redact_url
from monitor.store.feeds import mark_health
from monitor.store.tables import FeedState
from monitor.util.dates import as_utc

if TYPE_CHECKING:
    from monitor.service.metrics import Metrics

FAILURES_BEFORE_ALERT = 3  # never alert on one or two blips
FAILING_FACTOR = 4  # failing for this many intervals...
MIN_FAILING = timedelta(hours=1)  # ...and at least this long
SILENCE_FACTOR = 5  # nothing new for this many usual gaps between items...
MIN_SILENCE = timedelta(hours=12)  # ...and at least this long


def health_problem(state: FeedState, interval: timedelta, now: datetime) -> str:
    """Why the feed needs a person's attention, or "" if it does not."""
    since = state.last_success or state.first_polled or state.added
    if state.consecutive_failures >= FAILURES_BEFORE_ALERT and since is not None:
        failing = now - as_utc(since)
        if failing >= max(interval * FAILING_FACTOR, MIN_FAILING):
            return (
                f"failing for {_span(failing)} ({state.consecutive_failures} polls in a row): "
                f"{state.last_error}"
            )
    if state.consecutive_failures == 0 and state.rhythm > 0 and state.last_new is not None:
        usual = timedelta(seconds=state.rhythm)
        silent = now - as_utc(state.last_new)
        if silent >= max(usual * SILENCE_FACTOR, MIN_SILENCE):
            return f"no new item for {_span(silent)}; it usually brings one every {_span(usual)}"
    return ""


def open_alert(
    session: Session,
    state: FeedState,
    problem: str,
    now: datetime,
    metrics: Metrics | None = None,
) -> str:
    """Open (or re-open) the feed's health alert and mark the episode on the feed; returns
    the alert's id for the outbox. The feed's URL is shown without its credentials."""
    headline = f"Feed {state.name} ({redact_url(state.url)}): {problem}"
    change = open_feed_alert(session, state.name, headline, now, metrics)
    mark_health(session, state, change.alert_id)
    return change.alert_id


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    if seconds >= 120:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"
