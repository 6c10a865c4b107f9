"""Stories: reports of one event from several outlets, grouped so that they alert once.

Finding the story of a new article must cost the same with 1,000 or 100,000 articles in the
store, so candidates come from a MinHash LSH index (rensa, a Rust MinHash) over each article's
set of words: a rewrite by another outlet keeps most of the names, figures and quotes, so the
seed pair shares half its words while unrelated reports on the same subject share far fewer.
Banding 192 permutations into 64 bands of 3 makes a pair with word-set Jaccard 0.45 a
candidate 99.7% of the time, one at 0.1 only 6% of the time. Each candidate is then
confirmed on word 3-grams, which rewrites keep (the seed pair: 0.26 Jaccard) and unrelated
reports do not (under 0.05), and must lie within the story window.

The index lives in memory and is filled from the store: at first use, then before each batch
with whatever other processes (or a previous life of this one) stored since, so a restart or a
second replica loses nothing. An article is staged while its transaction is open and indexed
only once that transaction commits: a rolled-back article must leave no entry behind, or its
row id, reused by the next insert, would keep the dead article's signature. Articles far
behind the newest one leave the index, so its size and the cost of a lookup follow the story
window, not the whole history.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from rensa import RMinHash, RMinHashLSH
from sqlmodel import Session, col, select

from monitor.store.tables import ArticleRow, StoryRow
from monitor.text import shingles, tokenize

NUM_PERM = 192
NUM_BANDS = 64
SEED = 1718  # the UN sanctions committee's number; any fixed seed keeps signatures stable
MAX_CONFIRM = 25  # candidates checked exactly, best estimated first
MIN_ESTIMATE = 0.15  # estimated word-set Jaccard below which a candidate is not worth a look
GRAMS_KEPT = 20_000  # 3-gram sets kept for the exact check (~the last few days of news)
MAX_RANKED = 300  # candidates ranked by estimate: the most recent, when LSH offers more


@dataclass(frozen=True, slots=True)
class StoryPolicy:
    window: timedelta = timedelta(days=7)
    min_jaccard: float = 0.12
    min_containment: float = 0.30


def similarity(a: set[int], b: set[int]) -> tuple[float, float]:
    """(Jaccard, containment) of two shingle sets."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(a & b)
    return shared / len(a | b), shared / min(len(a), len(b))


def story_id_for(article: ArticleRow) -> str:
    seed = article.canonical_url or article.content_hash
    return "st-" + hashlib.sha1(seed.encode()).hexdigest()[:10]


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
        self._staged: list[tuple[int, datetime, RMinHash, set[int] | None]] = []

    def __len__(self) -> int:
        return len(self._signatures)

    def grams(self, session: Session, article_id: int) -> set[int]:
        """An indexed article's 3-grams: kept for recent articles, else read from the store."""
        found = self._grams.get(article_id)
        if found is None:
            row = session.get(ArticleRow, article_id)
            found = shingles(f"{row.title}\n{row.text}") if row else set()
            self._remember(article_id, found)
        return found

    def _remember(self, article_id: int, grams: set[int]) -> None:
        self._grams[article_id] = grams
        if len(self._grams) > GRAMS_KEPT:
            self._grams.popitem(last=False)

    def stage(
        self, article_id: int, dated: datetime, minhash: RMinHash, grams: set[int] | None = None
    ) -> None:
        """Remember an article of the open transaction; :meth:`commit` indexes it."""
        self._staged.append((article_id, dated, minhash, grams))

    def commit(self) -> None:
        """The transaction committed: index what it staged."""
        staged, self._staged = self._staged, []
        for entry in staged:
            self.add(*entry)

    def rollback(self) -> None:
        """The transaction rolled back: its articles never existed."""
        self._staged.clear()

    def add(
        self, article_id: int, dated: datetime, minhash: RMinHash, grams: set[int] | None = None
    ) -> None:
        if grams is not None:
            self._remember(article_id, grams)
        if article_id in self._signatures:
            return
        self._lsh.insert(article_id, minhash)
        self._signatures[article_id] = minhash
        self._dated[article_id] = dated
        self._last_id = max(self._last_id, article_id)
        heapq.heappush(self._by_date, (dated, article_id))
        self._newest = dated if self._newest is None else max(self._newest, dated)
        self._forget_before(self._newest - self.horizon)

    def _forget_before(self, cutoff: datetime) -> None:
        """Drop articles too old to join any story the index will be asked about, so LSH
        answers (and their cost) stay the size of the window, not of the whole history."""
        while self._by_date and self._by_date[0][0] < cutoff:
            _, key = heapq.heappop(self._by_date)
            self._lsh.remove(key)
            self._signatures.pop(key, None)
            self._dated.pop(key, None)
            self._grams.pop(key, None)

    def sync(self, session: Session) -> None:
        """Index every article the store holds that this index has not seen yet."""
        rows = session.exec(
            select(ArticleRow.id, ArticleRow.title, ArticleRow.text, ArticleRow.dated)
            .where(ArticleRow.id > self._last_id, col(ArticleRow.story_id).is_not(None))
            .order_by(ArticleRow.id)
        ).all()
        for article_id, title, text, dated in rows:
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


def assign_story(
    session: Session, article: ArticleRow, policy: StoryPolicy, index: StoryIndex
) -> str:
    """Join the article to the most similar story within the window, or start a new one."""
    assert article.id is not None
    minhash = signature(article.title, article.text)
    lo, hi = article.dated - policy.window, article.dated + policy.window
    best_story, best_score = None, 0.0
    keys = index.candidates(minhash, lo, hi)
    mine = shingles(f"{article.title}\n{article.text}")
    if keys:
        others = session.exec(
            select(ArticleRow.id, ArticleRow.story_id).where(col(ArticleRow.id).in_(keys))
        ).all()
        for other_id, other_story in others:
            jaccard, containment = similarity(mine, index.grams(session, other_id))
            if jaccard >= policy.min_jaccard or containment >= policy.min_containment:
                score = max(jaccard, containment)
                if score > best_score:
                    best_story, best_score = other_story, score
    story = session.get(StoryRow, best_story) if best_story else None
    if story is not None and article.dated - story.first_published > policy.window:
        story = None  # a story older than the window does not absorb a new event
    if story is None:
        story = StoryRow(
            id=story_id_for(article),
            headline=article.title,
            first_published=article.dated,
            last_published=article.dated,
        )
    else:
        if article.dated < story.first_published and article.title:
            story.headline = article.title  # the first report names the story, whatever order
        story.first_published = min(story.first_published, article.dated)
        story.last_published = max(story.last_published, article.dated)
    session.add(story)
    article.story_id = story.id
    index.stage(article.id, article.dated, minhash, mine)
    return story.id
