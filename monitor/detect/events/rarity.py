"""How telling a word is: its rarity in the news the service has been taking in.

A word's inverse document frequency comes from a rolling count of the articles that used it
(the ``term_counts`` table, :mod:`monitor.store.term_counts`), blended with a prior from a
general English word-frequency list (``wordfreq``) worth ``PRIOR_DOCS`` articles. A fresh store
thus weighs words as general English would ("sanctions" is rare there), and as DPRK news comes
in, the words every such story shares ("sanctions", "tanker", "Pyongyang") fall to little while
the names, places and vessels of one event keep their weight. A word neither source knows (a
new name, a typo, a hostile string) counts as a rare word, not the rarest: ``UNSEEN``.

Rolling: an article counts ``2 ** (age / HALF_LIFE_DAYS)`` at the time it arrives, measured from
a fixed epoch (forward decay). Each term row then only ever grows by additions, so replicas
add their batches' counts without reading first, and the ratio of a word's count to the total
is the exponentially faded document frequency, old news counting half every ``HALF_LIFE_DAYS``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from sys import intern

from monitor.detect.events.vectors import MAX_TF, TF

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
HALF_LIFE_DAYS = 60.0
PRIOR_DOCS = 400.0  # the general list counts as this many articles of news
WORDS_PER_ARTICLE = 300.0  # turns a word's frequency into the chance an article uses it
UNSEEN = 2e-7  # the frequency given to a word the list does not know
TOTAL = ""  # the term row that counts the articles themselves


@functools.cache
def _general() -> Mapping[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en", "best")


# Words every report in this service's field uses, whatever the event: rare in general English
# (so the general list would weigh them as names), common in sanctions news. A fresh store takes
# them as that news would, instead of learning it over its first few hundred articles; without
# this, two different events of one topic in one week looked alike on "Pyongyang" and "tanker".
DOMAIN_PRIOR = 0.5
DOMAIN_WORDS = frozenset(
    """north korea korean koreans pyongyang dprk kim jong un sanction sanctions sanctioned
    resolution resolutions security council nations panel experts regime nuclear missile
    missiles weapons illicit illegal violation violations breach evade evasion smuggling
    oil fuel petroleum refined diesel tanker tankers ship ships vessel vessels shipping
    transfer transfers ship-to-ship sts maritime coast guard seized seizure
    worker workers labor labour laborers labourers permits visas overseas
    treasury ofac designated designation designations regime's seoul tokyo beijing moscow
    russia russian china chinese japan japanese south""".split()
)


@functools.lru_cache(maxsize=65_536)
def prior(word: str) -> float:
    """The chance that an article uses ``word``: of this field's news for its own words
    (``DOMAIN_WORDS``), of general English for the rest."""
    if word in DOMAIN_WORDS:
        return DOMAIN_PRIOR
    return min(0.9, -math.expm1(-general_frequency(word) * WORDS_PER_ARTICLE))


@functools.lru_cache(maxsize=65_536)
def _prior_docs(word: str) -> float:
    """``PRIOR_DOCS * prior(word)``: what the general list adds to a word's count."""
    return PRIOR_DOCS * prior(word)


@functools.lru_cache(maxsize=65_536)
def _figure_frequency(word: str) -> float:
    from wordfreq import word_frequency

    return word_frequency(word, "en") or UNSEEN


def general_frequency(word: str) -> float:
    """How often ``word`` occurs in general English (``UNSEEN`` for a word the list lacks)."""
    frequency = _general().get(word)
    if frequency is None:
        frequency = _figure_frequency(word) if any(c.isdigit() for c in word) else UNSEEN
    return frequency


def arrival_weight(when: datetime) -> float:
    """What an article arriving at ``when`` adds to the counts (see the module docstring)."""
    days = (when - EPOCH).total_seconds() / 86_400
    return 2.0 ** (days / HALF_LIFE_DAYS)


class Rarity:
    """The counts as this process knows them: read from the store, and the open transaction's
    own additions kept apart until it commits (:meth:`commit`) or rolls back (:meth:`rollback`)."""

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}
        self.seq = 0  # the store's batch counter this copy is up to
        self._pending: dict[str, float] = {}

    def idf(self, word: str, now: datetime) -> float:
        """How telling ``word`` is at ``now``: the log of the faded article count over the
        faded count of those that used it, each with its prior."""
        scale = 1.0 / arrival_weight(now)
        total = self._count(TOTAL) * scale + PRIOR_DOCS
        return math.log(total / (self._count(word) * scale + _prior_docs(word)))

    def weights(self, counts: Mapping[str, int], now: datetime) -> dict[str, float]:
        """Each counted word's ``(1 + log tf) * idf`` at ``now``: a report's TF-IDF weights
        before they are cut and scaled (:mod:`.vectors`). The arithmetic of :meth:`idf`, in
        one loop without a call a word: this runs in the single writer for every report."""
        scale = 1.0 / arrival_weight(now)
        total = self._count(TOTAL) * scale + PRIOR_DOCS
        stored, log, prior_docs = self.counts.get, math.log, _prior_docs
        # Words are interned: the centroids of tens of thousands of live stories then share
        # one copy of each word instead of holding their own.
        out: dict[str, float] = {}
        if self._pending:
            pending = self._pending.get
            for word, n in counts.items():
                if n > 0:
                    count = stored(word, 0.0) + pending(word, 0.0)
                    out[intern(word)] = TF[min(n, MAX_TF)] * log(
                        total / (count * scale + prior_docs(word))
                    )
        else:  # nothing pending: adding 0.0 changes no count, so it is left out
            for word, n in counts.items():
                if n > 0:
                    out[intern(word)] = TF[min(n, MAX_TF)] * log(
                        total / (stored(word, 0.0) * scale + prior_docs(word))
                    )
        return out

    def _count(self, word: str) -> float:
        return self.counts.get(word, 0.0) + self._pending.get(word, 0.0)

    def add(self, words: Iterable[str], when: datetime) -> None:
        """Count one article that used ``words`` (each once), arriving at ``when``."""
        weight = arrival_weight(when)
        pending = self._pending
        for word in {*words, TOTAL}:
            pending[word] = pending.get(word, 0.0) + weight

    def pending(self) -> dict[str, float]:
        """The open transaction's additions, to be written with it."""
        return dict(self._pending)

    def update(
        self,
        rows: Iterable[tuple[str, float]],
        seq: int,
        batches: Iterable[Mapping[str, float]] = (),
    ) -> None:
        """Take what other processes stored: the current totals of these words, then the
        additions of the batches stored since those totals (see monitor.store.term_counts)."""
        counts = self.counts
        for word, count in rows:
            counts[word] = count
        for batch in batches:
            for word, count in batch.items():
                counts[word] = counts.get(word, 0.0) + count
        self.seq = max(self.seq, seq)

    def commit(self, seq: int) -> None:
        for word, count in self._pending.items():
            self.counts[word] = self.counts.get(word, 0.0) + count
        self._pending.clear()
        self.seq = max(self.seq, seq)

    def rollback(self) -> None:
        self._pending.clear()
