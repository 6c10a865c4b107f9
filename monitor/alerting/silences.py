"""Silences: an analyst's "not now" for a rule, a story or a phrase, for a while.

Silenced alerts are still stored and their notifications recorded (state ``silenced``), so a
silence hides nothing from ``monitor alerts list``; it only keeps channels quiet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from monitor.models import AlertView
from monitor.store import silences as stored
from monitor.store.tables import SilenceRow, utcnow
from monitor.util.dates import as_utc


def add_silence(
    session: Session,
    duration: timedelta,
    reason: str,
    rule: str = "",
    story: str = "",
    match: str = "",
) -> SilenceRow:
    if not (rule or story or match):
        raise ValueError("a silence needs --rule, --story or --match")
    return stored.add_silence(session, rule, story, match, reason, ends=utcnow() + duration)


def active_silences(session: Session, now: datetime | None = None) -> list[SilenceRow]:
    now = now or utcnow()
    return [row for row in stored.unexpired_silences(session) if as_utc(row.ends) > now]


def silenced_by(silences: list[SilenceRow], alert: AlertView) -> SilenceRow | None:
    for silence in silences:
        if silence.rule and silence.rule != alert.rule:
            continue
        if silence.story and silence.story != alert.story:
            continue
        if silence.match and not _mentions(alert, silence.match.casefold()):
            continue
        return silence
    return None


def _mentions(alert: AlertView, needle: str) -> bool:
    texts = [alert.headline] + [c.title for c in alert.citations]
    texts += [s for c in alert.citations for s in c.sentence_texts()]
    return any(needle in text.casefold() for text in texts)
