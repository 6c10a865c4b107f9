"""The story index: which stored articles might report the same event as a new one.

Finding the story of a new article must cost the same with 1,000 or 100,000 articles in the
store, so candidates come from a MinHash LSH index (rensa, a Rust MinHash) over each article's
set of words: a rewrite by another outlet keeps most of the names, figures and quotes, so the
seed pair shares half its words while unrelated reports on the same subject share far fewer.
Banding 192 permutations into 64 bands of 3 makes a pair with word-set Jaccard 0.45 a
candidate 99.7% of the time, one at 0.1 only 6% of the time. :mod:`monitor.detect.stories`
then confirms each candidate on word 3-grams.

The index lives in memory and is filled from the store: at first use, then before each batch
with whatever other processes (or a previous life of this one) stored since, so a restart or a
second replica loses nothing. An article is staged while its transaction is open: later
articles of the same transaction (a feed's batch) already find it, exactly as they would had
each been committed alone, but only a commit makes it stay. A rolled-back article must leave
no entry behind, or its row id, reused by the next insert, would keep the dead article's
signature; what it pushed out of the window comes back.
Articles far behind the newest one leave the index, so its size and the cost of a lookup follow
the story window, not the whole history.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from datetime import datetime, timedelta

from rensa import RMinHash, RMinHashLSH
from sqlmodel import Session

from monitor.store.articles import article_words, articles_with_stories_after
from monitor.util.text import shingles, tokenize

NUM_PERM = 192
NUM_BANDS = 64
SEED = 1718  # the UN sanctions committee's number; any fixed seed keeps signatures stable
MAX_CONFIRM = 25  # candidates checked exactly, best estimated first
MIN_ESTIMATE = 0.15  # estimated word-set Jaccard below which a candidate is not worth a look
GRAMS_KEPT = 20_000  # 3-gram sets kept for the exact check (~the last few days of news)
MAX_RANKED = 300  # candidates ranked by estimate: the most recent, when LSH offers more


def signature(title: str, text: str) -> RMinHash:
    """MinHash of the article's telling words: short function words ("the", "and", "was")
    are shared by every pair of reports and would only make unrelated ones look alike; figures
    are kept whatever their length."""
    minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
    words = {
        w for w in tokenize(f"{title}\n{text}").joined.split() if len(w) > 3 or not w.isalpha()
    }
    if words:
        minhash.update(sorted(words))
    return minhash


class StoryIndex:
    """Which stored articles might report the same event as a new one."""

    def __init__(self, horizon: timedelta = timedelta(days=15)) -> None:
        self.horizon = horizon  # how far behind the newest article an article stays indexed
        self._lsh = RMinHashLSH(threshold=0.3, num_perm=NUM_PERM, num_bands=NUM_BANDS)
        self._signatures: dict[int, RMinHash] = {}
        self._dated: dict[int, datetime] = {}
        self._last_id = 0
        self._grams: OrderedDict[int, set[int]] = OrderedDict()
        self._by_date: list[tuple[datetime, int]] = []  # a heap: the oldest article first
        self._newest: datetime | None = None
        # The open transaction's articles, and what they pushed out of the window, so that a
        # rollback can undo both; and the newest id and date from before it began.
        self._staged: list[int] = []
        self._dropped: list[tuple[int, datetime, RMinHash]] = []
        self._saved: tuple[int, datetime | None] = (0, None)

    def __len__(self) -> int:
        return len(self._signatures)

    def grams(self, session: Session, article_id: int) -> set[int]:
        """An indexed article's 3-grams: kept for recent articles, else read from the store."""
        found = self._grams.get(article_id)
        if found is None:
            words = article_words(session, article_id)
            found = shingles(words) if words is not None else set()
            self._remember(article_id, found)
        return found

    def _remember(self, article_id: int, grams: set[int]) -> None:
        self._grams[article_id] = grams
        if len(self._grams) > GRAMS_KEPT:
            self._grams.popitem(last=False)

    def stage(
        self, article_id: int, dated: datetime, minhash: RMinHash, grams: set[int] | None = None
    ) -> None:
        """Index an article of the open transaction, so that its later articles find it and
        the window moves as if each had been committed alone; :meth:`commit` keeps it,
        :meth:`rollback` undoes it, and what its arrival pushed out of the window."""
        if article_id in self._signatures:
            return
        if not self._staged:
            self._saved = (self._last_id, self._newest)
        self._staged.append(article_id)
        if grams is not None:
            self._remember(article_id, grams)
        self._index(article_id, dated, minhash)

    def commit(self) -> None:
        """The transaction committed: what it staged stays."""
        self._staged.clear()
        self._dropped.clear()

    def rollback(self) -> None:
        """The transaction rolled back: its articles never existed."""
        if not self._staged:
            return
        staged = set(self._staged)
        for article_id in staged:
            if self._signatures.pop(article_id, None) is not None:
                self._lsh.remove(article_id)
            self._dated.pop(article_id, None)
            self._grams.pop(article_id, None)
        self._by_date = [entry for entry in self._by_date if entry[1] not in staged]
        for article_id, dated, minhash in self._dropped:
            if article_id not in staged:
                self._lsh.insert(article_id, minhash)
                self._signatures[article_id] = minhash
                self._dated[article_id] = dated
                self._by_date.append((dated, article_id))
        heapq.heapify(self._by_date)
        self._last_id, self._newest = self._saved
        self._staged.clear()
        self._dropped.clear()

    def add(
        self, article_id: int, dated: datetime, minhash: RMinHash, grams: set[int] | None = None
    ) -> None:
        """Index a committed article (one another process stored, or a previous life)."""
        if grams is not None:
            self._remember(article_id, grams)
        if article_id not in self._signatures:
            self._index(article_id, dated, minhash)

    def _index(self, article_id: int, dated: datetime, minhash: RMinHash) -> None:
        self._lsh.insert(article_id, minhash)
        self._signatures[article_id] = minhash
        self._dated[article_id] = dated
        self._last_id = max(self._last_id, article_id)
        heapq.heappush(self._by_date, (dated, article_id))
        self._newest = dated if self._newest is None else max(self._newest, dated)
        self._forget_before(self._newest - self.horizon)

    def _forget_before(self, cutoff: datetime) -> None:
        """Drop articles too old to join any story the index will be asked about, so LSH
        answers (and their cost) stay the size of the window, not of the whole history.
        While a transaction is open, what is dropped is kept aside for a rollback."""
        while self._by_date and self._by_date[0][0] < cutoff:
            dated, key = heapq.heappop(self._by_date)
            self._lsh.remove(key)
            minhash = self._signatures.pop(key)
            self._dated.pop(key, None)
            self._grams.pop(key, None)
            if self._staged:
                self._dropped.append((key, dated, minhash))

    def sync(self, session: Session) -> None:
        """Index every article the store holds that this index has not seen yet."""
        for article_id, title, text, dated in articles_with_stories_after(session, self._last_id):
            self.add(article_id, dated, signature(title, text))

    def candidates(self, minhash: RMinHash, lo: datetime, hi: datetime) -> list[int]:
        """Article ids within [lo, hi] that LSH pairs with ``minhash``, best estimate first."""
        keys = self._lsh.query(minhash)
        if len(keys) > MAX_RANKED:
            # A burst of look-alike reports can make LSH offer thousands; the most recently
            # stored ones (highest ids) are kept, so the cost stays flat whatever the history.
            keys = sorted(keys)[-MAX_RANKED:]
        found = [key for key in keys if key in self._dated and lo <= self._dated[key] <= hi]
        estimates = {key: minhash.jaccard(self._signatures[key]) for key in found}
        found = [key for key in found if estimates[key] >= MIN_ESTIMATE]
        found.sort(key=estimates.__getitem__, reverse=True)
        return found[:MAX_CONFIRM]
