"""Word counts for the event matcher (monitor.detect.events.rarity): add a batch's, read what
changed since a replica last looked, and drop words too faded to matter.

A batch's additions go in one statement that only ever adds to a row, so it needs no read
first. Each batch takes the next ``seq`` (it runs under the ingest lock, so batches are
numbered in the order they commit) and stamps the rows it changed with it.

A feed's batch of real news adds a couple of thousand distinct words, so this statement is
the writer's largest: it goes to the driver as plain tuples (SQLAlchemy's per-row processing
cost as much as the upsert itself), in word order, which keeps the index pages it touches
together.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete
from sqlmodel import Session, col, select

from monitor.store.tables import TermCountRow

TOTAL = ""  # the row that counts the articles themselves


def current_seq(session: Session) -> int:
    seq = session.exec(select(TermCountRow.seq).where(TermCountRow.term == TOTAL)).first()
    return seq or 0


def add_term_counts(session: Session, counts: Mapping[str, float]) -> int:
    """Add ``counts`` (word -> weight) to the stored ones; returns the batch's ``seq``."""
    if not counts:
        return current_seq(session)
    seq = current_seq(session) + 1
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    table = TermCountRow.__tablename__
    # The same words on both dialects: SQLite and PostgreSQL spell the upsert alike.
    statement = (
        f"INSERT INTO {table} (term, weight, seq) VALUES ({mark}, {mark}, {mark}) "
        f"ON CONFLICT (term) DO UPDATE SET weight = {table}.weight + excluded.weight, "
        "seq = excluded.seq"
    )
    connection.exec_driver_sql(statement, [(t, w, seq) for t, w in sorted(counts.items())])
    return seq


def term_counts_since(session: Session, seq: int) -> tuple[list[tuple[str, float]], int]:
    """(word, weight) of the rows changed after batch ``seq``, and the latest batch's seq."""
    latest = current_seq(session)
    if latest <= seq:
        return [], latest
    rows = session.exec(
        select(TermCountRow.term, TermCountRow.weight).where(TermCountRow.seq > seq)
    ).all()
    return [(term, weight) for term, weight in rows], latest


def prune_term_counts(session: Session, below: float) -> int:
    """Forget words whose stored weight is under ``below``: a name seen once a year ago."""
    table = TermCountRow.__table__
    result = session.execute(
        delete(table).where(col(TermCountRow.weight) < below, col(TermCountRow.term) != TOTAL)
    )
    return result.rowcount or 0
