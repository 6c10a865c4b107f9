"""Word counts for the event matcher (monitor.detect.events.rarity): add a batch's, read what
changed since a replica last looked, and drop words too faded to matter.

A feed's batch of real news uses a couple of thousand distinct words. Adding them a row a word
was the writer's largest statement, so a batch writes them as one row of
``term_count_batches`` (JSON, word -> weight), numbered by its ``seq``; every ``FOLD_EVERY``
batches they are added into ``term_counts`` at once (:func:`fold_term_counts`), where a word
that fifty batches used is one upsert, stamped with the last batch folded. Batches are numbered
under the ingest lock, so in the order they commit, and folded under it too.

What a replica reads since batch ``seq``: the ``term_counts`` rows stamped after it, which are
totals that already hold every batch up to their stamp (so they replace what it knows), and
then the batch rows after it, which add to that. Nothing is counted twice: a batch row is
either still there, newer than every fold, or deleted by the fold that added it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from sqlalchemy import delete, text
from sqlmodel import Session, col

from monitor.store.jsoncodec import dumps, loads
from monitor.store.tables import TermCountBatchRow, TermCountRow

log = logging.getLogger(__name__)
TOTAL = ""  # the row that counts the articles themselves
FOLD_EVERY = 64  # batches kept as rows of their own before they are added into term_counts

_TERMS = TermCountRow.__tablename__
_BATCHES = TermCountBatchRow.__tablename__
# How a fold adds a word's weight to its row; SQLite and PostgreSQL spell the upsert alike.
_ADDED = (
    f"ON CONFLICT (term) DO UPDATE SET weight = {_TERMS}.weight + excluded.weight, "
    "seq = excluded.seq"
)
_SEQS = text(
    f"SELECT (SELECT MAX(seq) FROM {_BATCHES}), (SELECT seq FROM {_TERMS} WHERE term = :total)"
)


def _seqs(session: Session) -> tuple[int, int]:
    """The latest batch's seq, and the last one added into ``term_counts``."""
    batch, folded = session.execute(_SEQS, {"total": TOTAL}).one()
    folded = folded or 0
    return max(batch or 0, folded), folded


def current_seq(session: Session) -> int:
    return _seqs(session)[0]


def _batch(seq: int, blob: str) -> dict[str, float]:
    """A batch row's counts. One that does not read as word -> count (a row damaged by hand or
    by a disk) counts nothing and is logged: every batch read after it, and every article
    stored after it, would otherwise fail on it for good."""
    try:
        counts = loads(blob)
        if isinstance(counts, dict) and all(
            isinstance(w, str) and isinstance(x, int | float) and math.isfinite(x)
            for w, x in counts.items()
        ):
            return counts
        problem = "not an object of word -> count"
    except ValueError as exc:
        problem = str(exc)
    log.warning("word-count batch %d cannot be read (%s); it counts nothing", seq, problem)
    return {}


def _mark(session: Session) -> str:
    return "?" if session.connection().dialect.paramstyle == "qmark" else "%s"


def add_term_counts(session: Session, counts: Mapping[str, float]) -> int:
    """Add ``counts`` (word -> weight) to the stored ones; returns the batch's ``seq``."""
    latest, folded = _seqs(session)
    if not counts:
        return latest
    seq = latest + 1
    mark = _mark(session)
    session.connection().exec_driver_sql(
        f"INSERT INTO {_BATCHES} (seq, counts) VALUES ({mark}, {mark})",
        (seq, dumps(counts)),
    )
    if seq - folded >= FOLD_EVERY:
        fold_term_counts(session, seq)
    return seq


def fold_term_counts(session: Session, upto: int | None = None) -> int:
    """Add the batch rows up to ``upto`` (all, by default) into ``term_counts``, one upsert a
    word, and delete them; returns how many batches were folded. Call it under the ingest
    lock (:func:`monitor.store.claims.serialized`), as the writer does."""
    if upto is None:
        upto = current_seq(session)
    rows = session.execute(
        text(f"SELECT seq, counts FROM {_BATCHES} WHERE seq <= :upto ORDER BY seq"),
        {"upto": upto},
    ).all()
    if not rows:
        return 0
    summed: dict[str, float] = {}
    for seq, blob in rows:
        for word, weight in _batch(seq, blob).items():
            summed[word] = summed.get(word, 0.0) + weight
    # The total's row always takes the stamp: it is what says how far batches were folded,
    # even when every batch folded was unreadable.
    summed.setdefault(TOTAL, 0.0)
    # Word order keeps the index pages the upsert touches together.
    terms = sorted(summed)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # One statement over one JSON object, written by orjson: the tens of thousands of
        # words of a fold sent as rows of an executemany cost PostgreSQL's client a second of
        # CPU, and as two arrays still 38 ms (20,000 words), which psycopg writes element by
        # element, against 3 ms as JSON.
        connection.exec_driver_sql(
            f"INSERT INTO {_TERMS} (term, weight, seq) "
            f"SELECT key, value::float8, %s FROM json_each_text(%s::json) {_ADDED}",
            (upto, dumps({t: summed[t] for t in terms})),
        )
    else:  # SQLite runs an executemany in process, a row at a time either way
        mark = _mark(session)
        connection.exec_driver_sql(
            f"INSERT INTO {_TERMS} (term, weight, seq) VALUES ({mark}, {mark}, {mark}) {_ADDED}",
            [(t, summed[t], upto) for t in terms],
        )
    session.execute(delete(TermCountBatchRow).where(col(TermCountBatchRow.seq) <= upto))
    return len(rows)


def term_counts_since(
    session: Session, seq: int
) -> tuple[list[tuple[str, float]], list[dict[str, float]], int]:
    """What changed after batch ``seq``: (word, total) of the ``term_counts`` rows stamped
    after it, which replace what the reader knows; then each later batch's additions, in
    order; and the latest batch's seq."""
    latest, _ = _seqs(session)
    if latest <= seq:
        return [], [], latest
    totals = session.execute(
        text(f"SELECT term, weight FROM {_TERMS} WHERE seq > :seq"), {"seq": seq}
    ).all()
    batches = session.execute(
        text(f"SELECT seq, counts FROM {_BATCHES} WHERE seq > :seq ORDER BY seq"), {"seq": seq}
    ).all()
    return (
        [(term, weight) for term, weight in totals],
        [_batch(n, blob) for n, blob in batches],
        latest,
    )


def prune_term_counts(session: Session, below: float) -> int:
    """Forget words whose stored weight is under ``below``: a name seen once a year ago. The
    batches not yet folded are folded first, so a word is judged on its whole count; call it
    under the ingest lock."""
    fold_term_counts(session)
    table = TermCountRow.__table__
    result = session.execute(
        delete(table).where(col(TermCountRow.weight) < below, col(TermCountRow.term) != TOTAL)
    )
    return result.rowcount or 0
