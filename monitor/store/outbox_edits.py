"""The outbox after an analyst's merge or split: rows that tell of alerts which moved.

A row maps each alert it tells of to the revisions it reports, ``[from, to)``, and the revisions
number the alert's citations in order of arrival (see :mod:`monitor.store.alerts`). When
citations leave an alert, every row's numbers for it are shifted so they still name the same
remaining citations: the ledger of what each channel has had stays true, and the alert's next
source is a follow-up that numbers right. When an alert is gone (merged into another, or left
with no citation), rows not yet sent stop telling of it, and one left telling of nothing is
recorded as ``skipped``, never sent: what it would have said reaches the channel through the
merge's follow-up or the new story's notice. A row a sender holds right now is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from monitor.delivery.states import OutboxState
from monitor.store.alerts import shifted
from monitor.store.tables import NotificationRow
from monitor.util.dates import as_utc

PENDING = OutboxState.PENDING.value


def _held(row: NotificationRow, now: datetime) -> bool:
    return bool(row.lease_owner) and row.lease_until is not None and as_utc(row.lease_until) > now


def rework_rows(
    session: Session,
    story_id: str,
    changes: Mapping[str, Sequence[int] | None],
    reason: str,
    now: datetime,
) -> list[str]:
    """Bring the story's rows (and digests) in line with its alerts' changes: for each alert
    id, the places of the citations it lost (shift the rows' revisions), or None for an alert
    that is gone (drop it from rows still pending, as a pending row that has nothing left to
    say of an alert). Returns the keys of the rows skipped."""
    rows = session.exec(
        select(NotificationRow)
        .where(col(NotificationRow.story_id).in_([story_id, ""]))
        .order_by(col(NotificationRow.id))
    ).all()
    skipped = []
    for row in rows:
        alerts = dict(row.alerts or {})
        if not changes.keys() & alerts.keys():
            continue
        pending = row.state == PENDING and not _held(row, now)
        for alert_id, removed in changes.items():
            if alert_id not in alerts:
                continue
            if removed is not None:
                start, upto = alerts[alert_id]
                alerts[alert_id] = [shifted(start, removed), shifted(upto, removed)]
            if pending and (removed is None or alerts[alert_id][0] >= alerts[alert_id][1]):
                del alerts[alert_id]  # gone, or all it had to say left with the citations
        row.alerts = alerts
        if pending and not alerts:
            row.state, row.last_error = OutboxState.SKIPPED.value, reason
            skipped.append(row.key)
        session.add(row)
    session.flush()
    return skipped


def told_channels(
    session: Session, story_id: str, alert_ids: Sequence[str]
) -> set[tuple[str, str]]:
    """(alert id, channel) for each of these alerts a channel was sent a message about,
    in the story's own rows or a digest."""
    wanted = set(alert_ids)
    rows = session.exec(
        select(NotificationRow.alerts, NotificationRow.channel).where(
            col(NotificationRow.story_id).in_([story_id, ""]),
            col(NotificationRow.sent).is_not(None),
        )
    ).all()
    return {(a, channel) for alerts, channel in rows for a in (alerts or {}) if a in wanted}
