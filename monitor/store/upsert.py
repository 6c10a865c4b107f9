"""INSERT ... ON CONFLICT for the dialects the store runs on: both spell it alike, but each
has its own construct."""

from __future__ import annotations

from sqlmodel import Session


def insert_for(session: Session):
    """The dialect's ``insert``, which has ``on_conflict_do_update`` and ``excluded``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
