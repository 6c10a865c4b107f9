"""Which stories a new report might join, in well under a millisecond however long the history.

An inverted index maps each story's keys, its ``KEY_TERMS`` heaviest centroid terms and the
vessels it names, to the story. A report looks up its own heaviest terms and vessels, among the
stories its date can join (``window``): each key's stories are shelved by when their latest
report arrived (``SHELF`` at a time), and since news is dated before it arrives, a shelf that
was full before the report's date less the window holds no story it can join, and is not
opened (a story dated after its arrival is shelved apart, and always looked at). A key shared
by more than ``MAX_POSTINGS`` of the stories on the shelves opened ("korea" in a season of DPRK
news) says nothing and is skipped, so a lookup never walks a long list. The stories the report
shares the most weight with are rescored exactly (cosine to the centroid), ``RESCORE`` at most.
A lookup thus costs at most ``MAX_POSTINGS`` steps a key, however long the history.

What stays indexed follows arrival, not dates: a story is forgotten once no report has joined
it for ``horizon``, counted on the clock of the reports' arrival (when they were fetched), which
only moves forward. Dates cannot serve as that clock: feeds are polled in any order, and one
report dated years after the rest (an old feed backfilled after a newer one, a hostile date)
would push out every story of its weeks. A story's arrival is never later than now, and news
is dated at or before its arrival, so a story is kept at least as long as its dates leave it
open to the news that arrives. The size of the index, and the cost of a lookup, follow the
story window, not the history.

Changes are made while a transaction is open: its later articles see them at once, as if each
had been committed alone, and :meth:`EventIndex.rollback` restores every story the transaction
touched (or pushed out) as it was before.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import itemgetter

from monitor.detect.events.vectors import Vector, norm, top_terms

# A story's terms that lead to it, and a report's terms it looks up. 16 and 24 (they were 12
# and 20): two reports of one event on the story corpus (a launch, the Kharkiv missile's
# markings), alike enough to join, shared none of those keys and were never compared; with
# these both join, and nothing else changes on the corpus. bench/stories.py at 100,000
# articles: join 0.688 -> 0.703 ms, planted precision and recall 0.930/0.938 -> 0.941/0.948.
KEY_TERMS = 16
QUERY_TERMS = 24
# A key shared by more stories than this, on the shelves opened, is skipped. 50 (it was 100):
# bench/stories.py at 100,000 articles, join 0.87 -> 0.79 ms, planted-rewrite precision and
# recall 0.926/0.936 -> 0.930/0.938, the real corpus's splits unchanged.
MAX_POSTINGS = 50
RESCORE = 8  # candidates scored exactly, the most promising first
SHELF = 3 * 86_400.0  # seconds of arrivals a shelf of a key's stories holds
_AHEAD = sys.maxsize  # the shelf of stories dated after they arrived: opened by every lookup
_SCORE_THEN_ID = itemgetter(1, 0)


def _shelf(entry: StoryEntry) -> int:
    seen = entry.seen or entry.last
    return int(seen.timestamp() // SHELF) if entry.last <= seen else _AHEAD


@dataclass(slots=True)
class StoryEntry:
    """A story as the matcher knows it: its centroid (the sum of its members' vectors), the
    vessels its reports name, the dates of its first and latest reports, and when its latest
    report arrived (``seen``; None when not known, see :meth:`EventIndex.put`)."""

    id: str
    centroid: Vector
    vessels: frozenset[str]
    first: datetime
    last: datetime
    members: int
    last_article: int = 0  # the newest member's article id: what a replica syncs from
    seen: datetime | None = None
    norm: float = field(default=0.0, compare=False)
    keys: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        self.norm = norm(self.centroid)
        self.keys = tuple(top_terms(self.centroid, KEY_TERMS)) + tuple(
            "vessel:" + v for v in sorted(self.vessels)
        )


def query_keys(vector: Vector, vessels: Iterable[str]) -> list[tuple[str, float]]:
    """The keys a report looks up, each with the weight it brings to a story found by it."""
    keys = [(w, vector[w]) for w in top_terms(vector, QUERY_TERMS)]
    return keys + [("vessel:" + v, 1.0) for v in vessels]


class EventIndex:
    def __init__(self, horizon: timedelta) -> None:
        self.horizon = horizon
        self.entries: dict[str, StoryEntry] = {}
        # key -> shelf -> {slot: the story's latest date, as a timestamp}. A story is known
        # by a number in the postings (its slot, new each time it is indexed): scoring a
        # thousand postings by small numbers costs half what it does by the stories' names.
        self._postings: dict[str, dict[int, dict[int, float]]] = {}
        # (key, shelf) -> a date no story on that shelf of that key is older than (the oldest
        # ever put there: removals leave it low, never wrong). A lookup whose window starts
        # before it counts the shelf's stories without comparing each one's date.
        self._floors: dict[tuple[str, int], float] = {}
        self._slots: dict[int, StoryEntry] = {}
        self._slot_of: dict[str, int] = {}
        self._next_slot = 0
        self._by_seen: list[tuple[datetime, str]] = []  # a heap; stale pairs are skipped
        self._clock: datetime | None = None  # the latest arrival of a report
        self._undo: dict[str, StoryEntry | None] | None = None  # the open transaction's
        self._undo_clock: datetime | None = None

    def __len__(self) -> int:
        """Articles the indexed stories hold."""
        return sum(entry.members for entry in self.entries.values())

    def candidates(
        self,
        keys: list[tuple[str, float]],
        dated: datetime | None = None,
        window: timedelta | None = None,
    ) -> list[StoryEntry]:
        """The indexed stories sharing the most key weight with a report, best first; with
        ``dated`` and ``window``, only among stories whose latest report is at most
        ``window`` before ``dated`` (the others cannot be joined)."""
        if dated is None or window is None:
            since, lowest = float("-inf"), -_AHEAD
        else:
            since = (dated - window).timestamp()
            lowest = int(since // SHELF)
        postings, floors = self._postings, self._floors
        scores: dict[int, float] = {}
        score = scores.get
        for key, weight in keys:
            shelves = postings.get(key)
            if not shelves:
                continue
            found = [(shelf, stories) for shelf, stories in shelves.items() if shelf >= lowest]
            if sum(len(stories) for _, stories in found) > MAX_POSTINGS:
                continue
            for shelf, stories in found:
                if floors[key, shelf] >= since:  # every story on the shelf is in the window
                    for slot in stories:
                        scores[slot] = score(slot, 0.0) + weight
                    continue
                for slot, last in stories.items():
                    if last >= since:
                        scores[slot] = score(slot, 0.0) + weight
        if len(scores) > RESCORE:
            # The RESCORE-th best score, found by a sort of plain floats (fast), bounds the
            # few stories that need sorting by score and then name.
            floor = sorted(scores.values(), reverse=True)[RESCORE - 1]
            best = [(slot, x) for slot, x in scores.items() if x >= floor]
        else:
            best = list(scores.items())
        slots = self._slots
        named = sorted(((slots[slot].id, x) for slot, x in best), key=_SCORE_THEN_ID, reverse=True)
        entries = self.entries
        return [entries[story] for story, _ in named[:RESCORE]]

    def put(self, entry: StoryEntry) -> None:
        """Index a new or grown story (replacing what was indexed of it), and forget the
        stories no report joined for ``horizon`` before the latest arrival.

        A story whose latest arrival is not known (read back from the store: another
        replica's, or a previous life's) counts as arrived when this index learns of it, on
        the clock of the latest arrival it knows (it is then kept as long as the replica that
        stored it keeps it), or, before any is known, when its latest report is dated. Such
        a story never moves the clock: a date from the future cannot push the others out."""
        self._save(entry.id)
        self._unindex(entry.id)
        if entry.seen is None:
            entry.seen = self._clock or entry.last
        elif self._clock is None or entry.seen > self._clock:
            self._clock = entry.seen
        self._index(entry)
        heapq.heappush(self._by_seen, (entry.seen, entry.id))
        if self._clock is not None:
            self._forget_before(self._clock - self.horizon)

    def get(self, story_id: str) -> StoryEntry | None:
        entry = self.entries.get(story_id)
        return None if entry is None else replace(entry)

    def _index(self, entry: StoryEntry) -> None:
        self.entries[entry.id] = entry
        slot = self._next_slot
        self._next_slot += 1
        self._slots[slot] = entry
        self._slot_of[entry.id] = slot
        last, shelf = entry.last.timestamp(), _shelf(entry)
        for key in entry.keys:
            shelves = self._postings.get(key)
            if shelves is None:
                shelves = self._postings[key] = {}
            stories = shelves.get(shelf)
            if stories is None:
                stories = shelves[shelf] = {}
                self._floors[key, shelf] = last
            elif last < self._floors[key, shelf]:
                self._floors[key, shelf] = last
            stories[slot] = last

    def _unindex(self, story_id: str) -> None:
        old = self.entries.pop(story_id, None)
        if old is None:
            return
        slot = self._slot_of.pop(story_id)
        del self._slots[slot]
        shelf = _shelf(old)
        for key in old.keys:
            shelves = self._postings.get(key)
            stories = None if shelves is None else shelves.get(shelf)
            if stories is None:
                continue
            stories.pop(slot, None)
            if not stories:
                del shelves[shelf]
                del self._floors[key, shelf]
                if not shelves:
                    del self._postings[key]

    def _forget_before(self, cutoff: datetime) -> None:
        while self._by_seen and self._by_seen[0][0] < cutoff:
            seen, story_id = heapq.heappop(self._by_seen)
            entry = self.entries.get(story_id)
            if entry is not None and entry.seen == seen:  # else a newer pair stands for it
                self._save(story_id)
                self._unindex(story_id)

    def _save(self, story_id: str) -> None:
        if self._undo is not None and story_id not in self._undo:
            self._undo[story_id] = self.entries.get(story_id)

    def begin(self) -> None:
        """A transaction opens: what it changes can be undone until :meth:`commit`."""
        if self._undo is None:
            self._undo, self._undo_clock = {}, self._clock

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        """Put back every story the open transaction changed, added or pushed out."""
        undo, self._undo = self._undo, None
        if not undo:
            return
        for story_id, entry in undo.items():
            self._unindex(story_id)
            if entry is not None:
                self._index(entry)
                heapq.heappush(self._by_seen, (entry.seen, entry.id))
        self._clock = self._undo_clock
