"""Which stories a new report might join, in well under a millisecond however long the history.

An inverted index maps each story's keys, its ``KEY_TERMS`` heaviest centroid terms and the
vessels it names, to the story. A report looks up its own heaviest terms and vessels; keys
shared by more than ``MAX_POSTINGS`` live stories ("korea" in a season of DPRK news) say
nothing and are skipped, so a lookup never walks a long list. The stories the report shares
the most weight with are rescored exactly (cosine to the centroid), ``RESCORE`` at most.

Only stories whose latest report is within ``horizon`` of the newest one stay indexed, so the
size of the index, and the cost of a lookup, follow the story window, not the history.

Changes are made while a transaction is open: its later articles see them at once, as if each
had been committed alone, and :meth:`EventIndex.rollback` restores every story the transaction
touched (or pushed out of the window) as it was before.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from monitor.detect.events.vectors import Vector, norm, top_terms

KEY_TERMS = 12  # a story's terms that lead to it
QUERY_TERMS = 20  # a report's terms it looks up
MAX_POSTINGS = 150  # a key shared by more live stories than this is skipped
RESCORE = 8  # candidates scored exactly, the most promising first
KEEP_AT_LEAST = 2_000  # stories kept whatever their dates (each costs a few tens of KB)


@dataclass(slots=True)
class StoryEntry:
    """A story as the matcher knows it: its centroid (the sum of its members' vectors), the
    vessels its reports name, and the dates of its first and latest reports."""

    id: str
    centroid: Vector
    vessels: frozenset[str]
    first: datetime
    last: datetime
    members: int
    last_article: int = 0  # the newest member's article id: what a replica syncs from
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
    def __init__(self, horizon: timedelta, keep_at_least: int = KEEP_AT_LEAST) -> None:
        self.horizon = horizon
        self.keep_at_least = keep_at_least
        self.entries: dict[str, StoryEntry] = {}
        self._postings: dict[str, set[str]] = {}
        self._by_last: list[tuple[datetime, str]] = []  # a heap; stale pairs are skipped
        self._newest: datetime | None = None
        self._undo: dict[str, StoryEntry | None] | None = None  # the open transaction's
        self._undo_newest: datetime | None = None

    def __len__(self) -> int:
        """Articles the indexed stories hold."""
        return sum(entry.members for entry in self.entries.values())

    def candidates(self, keys: list[tuple[str, float]]) -> list[StoryEntry]:
        """The indexed stories sharing the most key weight with a report, best first."""
        scores: dict[str, float] = {}
        for key, weight in keys:
            found = self._postings.get(key)
            if not found or len(found) > MAX_POSTINGS:
                continue
            for story in found:
                scores[story] = scores.get(story, 0.0) + weight
        best = heapq.nlargest(RESCORE, scores.items(), key=lambda kv: (kv[1], kv[0]))
        return [self.entries[story] for story, _ in best]

    def put(self, entry: StoryEntry) -> None:
        """Index a new or grown story (replacing what was indexed of it)."""
        self._save(entry.id)
        self._unindex(entry.id)
        self.entries[entry.id] = entry
        for key in entry.keys:
            self._postings.setdefault(key, set()).add(entry.id)
        heapq.heappush(self._by_last, (entry.last, entry.id))
        if self._newest is None or entry.last > self._newest:
            self._newest = entry.last
        if len(self.entries) > self.keep_at_least:
            # Only a large index forgets: one report dated far after the rest (an old feed
            # backfilled after a newer one) would otherwise push every story of its weeks out,
            # and their next reports would each open a story of its own.
            self._forget_before(self._newest - self.horizon)

    def get(self, story_id: str) -> StoryEntry | None:
        entry = self.entries.get(story_id)
        return None if entry is None else replace(entry)

    def _unindex(self, story_id: str) -> None:
        old = self.entries.pop(story_id, None)
        if old is None:
            return
        for key in old.keys:
            found = self._postings.get(key)
            if found is not None:
                found.discard(story_id)
                if not found:
                    del self._postings[key]

    def _forget_before(self, cutoff: datetime) -> None:
        while self._by_last and self._by_last[0][0] < cutoff:
            last, story_id = heapq.heappop(self._by_last)
            entry = self.entries.get(story_id)
            if entry is not None and entry.last == last:  # else a newer pair stands for it
                self._save(story_id)
                self._unindex(story_id)

    def _save(self, story_id: str) -> None:
        if self._undo is not None and story_id not in self._undo:
            self._undo[story_id] = self.entries.get(story_id)

    def begin(self) -> None:
        """A transaction opens: what it changes can be undone until :meth:`commit`."""
        if self._undo is None:
            self._undo, self._undo_newest = {}, self._newest

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
                self.entries[entry.id] = entry
                for key in entry.keys:
                    self._postings.setdefault(key, set()).add(entry.id)
                heapq.heappush(self._by_last, (entry.last, entry.id))
        self._newest = self._undo_newest
