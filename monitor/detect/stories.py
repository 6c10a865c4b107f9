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
second replica loses nothing. An article is staged while its transaction is open: later
articles of the same transaction (a feed's batch) already find it, exactly as they would had
each been committed alone, but only a commit makes it stay. A rolled-back article must leave
no entry behind, or its row id, reused by the next insert, would keep the dead article's
signature; what it pushed out of the window comes back.
Articles far behind the newest one leave the index, so its size and the cost of a lookup follow
the story window, not the whole history.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from rensa import RMinHash, RMinHashLSH
from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from monitor.store.tables import ArticleRow, StoryRow, utcnow
from monitor.util.text import shingles, tokenize

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


def story_id_for(article: StoredArticle) -> str:
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
    session: Session,
    article: StoredArticle,
    policy: StoryPolicy,
    index: StoryIndex,
    batch: StoryBatch,
) -> str:
    """Join the article to the most similar story within the window, or start a new one.

    The article is one of a transaction's batch: stories are collected in ``batch`` and
    written together (:meth:`StoryBatch.write`), and the article's story id is known from the
    batch before its row says so.
    """
    assert article.id is not None
    minhash = signature(article.title, article.text)
    lo, hi = article.dated - policy.window, article.dated + policy.window
    best_story, best_score = None, 0.0
    keys = index.candidates(minhash, lo, hi)
    mine = shingles(f"{article.title}\n{article.text}")
    scores = {}
    for key in keys:  # the exact check first: most candidates fail it, and cost no query
        jaccard, containment = similarity(mine, index.grams(session, key))
        if jaccard >= policy.min_jaccard or containment >= policy.min_containment:
            scores[key] = max(jaccard, containment)
    if scores:
        others = session.exec(
            select(ArticleRow.id, ArticleRow.story_id).where(col(ArticleRow.id).in_(scores))
        ).all()
        for other_id, other_story in others:
            other_story = batch.of_article.get(other_id, other_story)
            if scores[other_id] > best_score:
                best_story, best_score = other_story, scores[other_id]
    story = None
    if best_story:
        story = batch.stories.get(best_story) or session.get(StoryRow, best_story)
    if story is not None and article.dated - story.first_published > policy.window:
        story = None  # a story older than the window does not absorb a new event
    if story is None:
        story = NewStory(
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
    batch.stories[story.id] = story
    batch.of_article[article.id] = story.id
    article.story_id = story.id
    index.stage(article.id, article.dated, minhash, mine)
    return story.id


@dataclass(slots=True)
class NewStory:
    """A story a batch starts: a plain object, written with the batch's other new stories in
    one statement (a SQLModel row costs more to build than to insert)."""

    id: str
    headline: str
    first_published: datetime
    last_published: datetime


@dataclass(slots=True)
class StoryBatch:
    """The stories of one transaction's articles, kept out of the session until the end, so
    that a batch writes them in a few statements, not one flush an article."""

    stories: dict[str, StoryRow | NewStory] = field(default_factory=dict)
    of_article: dict[int, str] = field(default_factory=dict)  # article id -> story id

    @property
    def started(self) -> list[NewStory]:
        return [s for s in self.stories.values() if isinstance(s, NewStory)]

    def write(self, session: Session) -> None:
        """Write the new stories and each article's story id; stories that were stored
        before are rows of the session, written by its flush."""
        now = utcnow()
        new = [
            {
                "id": s.id,
                "headline": s.headline,
                "first_published": s.first_published,
                "last_published": s.last_published,
                "created": now,
            }
            for s in self.started
        ]
        if new:
            session.execute(insert(StoryRow.__table__), new)
        if self.of_article:
            table = ArticleRow.__table__
            session.execute(
                update(table)
                .where(table.c.id == bindparam("article_id"))
                .values(story_id=bindparam("story")),
                [{"article_id": a, "story": s} for a, s in self.of_article.items()],
            )
        session.flush()


class StoredArticle(Protocol):
    """What story assignment reads of an article: a stored row, or a batch's plain record
    of one."""

    id: int | None
    title: str
    text: str
    canonical_url: str
    content_hash: str
    dated: datetime
    story_id: str | None
