"""Silences: added by an analyst, read by the outbox, ended by their time or by hand."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from monitor.store.tables import SilenceRow


def add_silence(
    session: Session, rule: str, story: str, match: str, reason: str, ends: datetime
) -> SilenceRow:
    row = SilenceRow(rule=rule, story=story, match=match, reason=reason, ends=ends)
    session.add(row)
    return row


def unexpired_silences(session: Session) -> list[SilenceRow]:
    """Silences nobody ended by hand; whether their time is up is for the caller to say."""
    return list(session.exec(select(SilenceRow).where(SilenceRow.expired == False)).all())  # noqa: E712


def expire_silence(session: Session, silence_id: int) -> bool:
    """End a silence now; False if there is no such silence."""
    row = session.get(SilenceRow, silence_id)
    if row is None:
        return False
    row.expired = True
    session.add(row)
    return True
