"""A claimed row as the message a channel sends, read from the store when it is due."""

from __future__ import annotations

from sqlmodel import Session

from monitor.alerting.alerts import load_alert
from monitor.delivery.channels.base import MergeNote, Message
from monitor.models import AlertView
from monitor.store.story_edits import merges_untold
from monitor.store.tables import NotificationRow


def merge_notes(session: Session, story: str, channel: str) -> list[MergeNote]:
    """The analysts' merges into the story since the channel last heard of it: they explain
    why sources the channel may have had under another story come as a follow-up here."""
    if not story:
        return []
    edits = merges_untold(session, story, channel)
    return [
        MergeNote(
            other_story=edit.other_story,
            other_headline=str(edit.detail.get("other_headline", "")),
            reports=len(edit.detail.get("articles", [])),
            analyst=edit.analyst,
            note=edit.note,
        )
        for edit in edits
    ]


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
        merges=merge_notes(session, row.story_id, row.channel) if row.kind != "digest" else [],
    )
