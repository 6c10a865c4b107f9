"""Alerts follow their story when an analyst merges or splits stories.

An alert is one (rule, story) and is found by its id, ``alert_id_for(rule, story)``, so it
keeps being found the way the pipeline looks it up. On a merge of story B into A, for each
rule B alerted on: if A has that rule's alert, B's citations join it as its latest sources (one
revision each); if not, B's alert becomes A's, re-keyed to ``alert_id_for(rule, A)`` with its
citations, revisions and creation time. On a split, the article's citations leave the old
story's alerts and open the new story's alerts, as any new event does.

A merge then writes one follow-up per affected alert and channel, through the same writing
chain as any change (dedup, silences, routes' ``updates``, grouping): the sources that came
from B are the news. A channel that was told of B's alert is never sent a first notice for
it again: the merge counts as a follow-up there even when A's story is new to the channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from monitor.alerting.alerts import alert_id_for, load_alert
from monitor.alerting.notify import WRITING, fold
from monitor.alerting.routes import routes_for
from monitor.alerting.silences import active_silences
from monitor.config import DeliveryConfig, RouteConfig
from monitor.delivery.stages.writing import Candidate, WriteContext
from monitor.store.alerts import (
    AlertSpec,
    alert_citations,
    append_citations,
    cite,
    delete_alert,
    mark_queued,
    rekey_alert,
    remove_citations,
    story_alerts,
)
from monitor.store.notifications import sent_ledger
from monitor.store.story_edits import StoryEdit, alert_moves
from monitor.store.tables import utcnow

JOINED = "joined"  # merge: the citations joined the story's alert for the same rule
REKEYED = "rekeyed"  # merge: the alert became the story's alert for its rule
LEFT = "left"  # split: the article's citation left the alert, which goes on
EMPTIED = "emptied"  # split: the article was the alert's only source; the alert is gone
OPENED = "opened"  # split: the new story's alert, citing the article
ENDING = (JOINED, REKEYED, EMPTIED)  # the moves after which the source alert is no more


@dataclass(frozen=True, slots=True)
class AlertMove:
    """What happened to one alert: ``source`` is the alert citations left, ``target`` the
    alert they are in now, ``citations`` how many moved, ``places`` the places (in order
    of arrival, from 0) they held in ``source``."""

    rule: str
    how: str
    source: str
    target: str
    citations: int
    places: tuple[int, ...] = ()

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "how": self.how,
            "from": self.source,
            "to": self.target,
            "citations": self.citations,
        }


def merge_alerts(session: Session, into: str, gone: str, now: datetime) -> list[AlertMove]:
    """Move every alert of story ``gone`` into story ``into`` (see the module's docstring)."""
    have = {alert.rule_id: alert for alert in story_alerts(session, into)}
    moves = []
    for alert in story_alerts(session, gone):
        rule, source = alert.rule_id, alert.id
        citations = alert_citations(session, source)
        target = have.get(rule)
        if target is not None:
            append_citations(session, target, citations, now)
            delete_alert(session, alert)
            moves.append(AlertMove(rule, JOINED, source, target.id, len(citations)))
        else:
            moved = rekey_alert(session, alert, alert_id_for(rule, into), into)
            moves.append(AlertMove(rule, REKEYED, source, moved.id, len(citations)))
    return moves


def split_alerts(
    session: Session, story: str, article_id: int, new_story: str, now: datetime
) -> list[AlertMove]:
    """Move the article's citations from the story's alerts to new alerts of ``new_story``."""
    moves = []
    for alert in story_alerts(session, story):
        citations = alert_citations(session, alert.id)
        cited = [c for c in citations if c.article_id == article_id]
        if not cited:
            continue
        spec = AlertSpec(
            id=alert_id_for(alert.rule_id, new_story),
            rule_id=alert.rule_id,
            story_id=new_story,
            title=alert.title,
            severity=alert.severity,
            rule_version=cited[0].rule_version,
            tags=tuple(alert.tags or ()),
            labels=dict(alert.labels or {}),
        )
        sentences = list(cited[0].sentences or [])
        rule, source = alert.rule_id, alert.id
        places = remove_citations(session, alert, [article_id])
        cite(session, spec, article_id, sentences, now)
        how = EMPTIED if len(places) == len(citations) else LEFT
        moves.append(AlertMove(rule, how, source, spec.id, len(places), tuple(places)))
    return moves


@dataclass(frozen=True, slots=True)
class Followup:
    """A message the merge called for on one channel, as the writing chain decided it:
    ``kind`` update (or digest), ``state`` pending, silenced or skipped."""

    alert: str
    channel: str
    kind: str
    state: str
    wait: float

    def to_json(self) -> dict:
        return {
            "alert": self.alert,
            "channel": self.channel,
            "kind": self.kind,
            "state": self.state,
            "wait": self.wait,
        }


def merged_followups(
    session: Session,
    moves: Sequence[AlertMove],
    told: set[tuple[str, str]],
    routes: list[RouteConfig],
    delivery: DeliveryConfig | None = None,
) -> list[Followup]:
    """Write the merge's follow-ups: for each alert that took in another story's sources,
    and each channel its routes name, one message through the writing chain (a pending row
    of the same story, channel and kind that no send has tried takes it in instead, as for
    any change). ``told`` holds (alert id, channel) for the merged story's alerts a channel
    was sent."""
    delivery = delivery or DeliveryConfig()
    now = utcnow()
    deadline = now + timedelta(seconds=delivery.max_age)
    ctx = WriteContext(now=now, silences=active_silences(session, now))
    written: list[Followup] = []
    for move in moves:
        alert = load_alert(session, move.target)
        if alert is None:
            continue
        mark_queued(session, alert.id, alert.revision)  # so no one queues it a second time
        for route in routes_for(routes, alert):
            for channel in route.channels:
                ledger = sent_ledger(session, alert.story, channel)
                since = ledger.given.get(alert.id)
                if since is None and (move.source, channel) in told:
                    since = 0  # the channel knows the event: all of the alert is news here
                candidate = Candidate(alert, route, channel, ledger, since=since)
                for chosen in WRITING.run(ctx, [candidate]):
                    fold(session, chosen, now, deadline)
                    written.append(
                        Followup(alert.id, channel, chosen.kind, chosen.state, chosen.wait)
                    )
    return written


@dataclass(frozen=True, slots=True)
class AlertFate:
    """Where an alert that is no more went: ``alert`` holds its citations now ("" if none
    does), and ``hops`` are the edits on the way with their moves, oldest first."""

    alert: str
    hops: list[tuple[StoryEdit, dict]]


def alert_fate(session: Session, alert_id: str) -> AlertFate | None:
    """What became of an alert id an analyst still holds (from a Slack message, an email)
    after merges and splits; None if no edit ever moved it (it never existed, or was pruned)."""
    moves = alert_moves(session, ENDING)
    hops: list[tuple[StoryEdit, dict]] = []
    current, seen = alert_id, set()
    while current in moves and current not in seen:
        seen.add(current)
        hops.append(moves[current])
        current = moves[current][1].get("to") or ""
    return AlertFate(current, hops) if hops else None
