"""The event matcher's word counts in the store: a row a batch, folded into a row a word every
few batches, and read back by another replica whichever side of a fold it last looked from."""

from __future__ import annotations

import math
import random

from sqlmodel import select

from monitor.detect.events.rarity import TOTAL, Rarity
from monitor.store import Store
from monitor.store import term_counts as stored
from monitor.store.claims import serialized
from monitor.store.tables import TermCountBatchRow, TermCountRow

WORDS = [f"w{n}" for n in range(40)]


def batches(count: int, seed: int = 7) -> list[dict[str, float]]:
    """Batches of word counts as a writer adds them (every batch counts the total too)."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        counts = {w: rng.choice([1.0, 2.0, 1.5]) for w in rng.sample(WORDS, 12)}
        counts[TOTAL] = float(rng.randint(1, 5))
        made.append(counts)
    return made


def write(store: Store, counts: dict[str, float]) -> int:
    with store.session() as session:
        serialized(session)
        seq = stored.add_term_counts(session, counts)
        session.commit()
    return seq


def sync(store: Store, rarity: Rarity) -> None:
    with store.session() as session:
        serialized(session)
        rows, added, seq = stored.term_counts_since(session, rarity.seq)
        rarity.update(rows, seq, added)


def expected(written: list[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for counts in written:
        for word, weight in counts.items():
            total[word] = total.get(word, 0.0) + weight
    return total


def assert_counts(rarity: Rarity, want: dict[str, float]) -> None:
    assert set(rarity.counts) == set(want)
    for word, weight in want.items():
        assert math.isclose(rarity.counts[word], weight), word


def test_a_replica_reads_the_same_counts_across_folds(store: Store, monkeypatch) -> None:
    monkeypatch.setattr(stored, "FOLD_EVERY", 4)
    written = batches(11)
    early, late = Rarity(), Rarity()
    for n, counts in enumerate(written, start=1):
        assert write(store, counts) == n  # numbered in commit order
        if n == 2:
            sync(store, early)  # looks before the first fold, then again after two
    with store.session() as session:
        # Batches 1-4 and 5-8 were folded into a row a word; 9-11 wait as rows of their own.
        assert session.exec(select(TermCountBatchRow.seq)).all() == [9, 10, 11]
        total = session.exec(select(TermCountRow).where(TermCountRow.term == TOTAL)).one()
        assert total.seq == 8
        assert total.weight == sum(c[TOTAL] for c in written[:8])
    sync(store, early)
    sync(store, late)  # never looked before
    want = expected(written)
    assert early.seq == late.seq == 11
    assert_counts(early, want)
    assert_counts(late, want)


def test_a_writer_that_is_up_to_date_reads_nothing(store: Store) -> None:
    rarity = Rarity()
    for counts in batches(3):
        write(store, counts)
    sync(store, rarity)
    with store.session() as session:
        assert stored.term_counts_since(session, rarity.seq) == ([], [], 3)


def test_prune_folds_first_and_keeps_the_total(store: Store) -> None:
    written = batches(3)
    for counts in written:
        write(store, counts)
    with store.session() as session:
        serialized(session)
        dropped = stored.prune_term_counts(session, below=2.5)
        session.commit()
    want = expected(written)
    with store.session() as session:
        assert session.exec(select(TermCountBatchRow)).all() == []
        kept = {row.term: row.weight for row in session.exec(select(TermCountRow))}
    assert dropped == sum(1 for w, x in want.items() if w != TOTAL and x < 2.5)
    assert set(kept) == {w for w, x in want.items() if w == TOTAL or x >= 2.5}
    rarity = Rarity()
    sync(store, rarity)
    assert_counts(rarity, {w: want[w] for w in kept})


def test_a_batch_with_no_words_takes_no_number(store: Store) -> None:
    write(store, batches(1)[0])
    assert write(store, {}) == 1
    assert write(store, batches(1)[0]) == 2


def test_an_unreadable_batch_counts_nothing_and_stops_nothing(
    store: Store, monkeypatch, caplog
) -> None:
    """A batch row damaged outside the service is skipped, logged, and folded away; the
    batches around it are read and folded, and numbering goes on after it."""
    monkeypatch.setattr(stored, "FOLD_EVERY", 4)
    written = batches(2)
    write(store, written[0])
    with store.session() as session:
        session.add(TermCountBatchRow(seq=2, counts='{"w1": "many"'))
        session.commit()
    write(store, written[1])  # seq 3
    early = Rarity()
    with caplog.at_level("WARNING", logger="monitor.store.term_counts"):
        sync(store, early)
    assert "word-count batch 2 cannot be read" in caplog.text
    assert_counts(early, expected(written))
    assert write(store, batches(1, seed=9)[0]) == 4  # the fourth batch folds all four
    with store.session() as session:
        assert session.exec(select(TermCountBatchRow)).all() == []
        total = session.exec(select(TermCountRow).where(TermCountRow.term == TOTAL)).one()
        assert total.seq == 4
    late = Rarity()
    sync(store, late)
    assert_counts(late, expected([*written, batches(1, seed=9)[0]]))


def test_a_fold_of_only_unreadable_batches_still_marks_how_far_it_folded(store: Store) -> None:
    with store.session() as session:
        session.add(TermCountBatchRow(seq=1, counts="[1, 2]"))
        serialized(session)
        assert stored.fold_term_counts(session) == 1
        session.commit()
    with store.session() as session:
        assert stored.current_seq(session) == 1
    assert write(store, batches(1)[0]) == 2
