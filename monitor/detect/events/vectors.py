"""Sparse TF-IDF vectors, story centroids, and the words two of them share.

An article's vector weighs each content word by ``(1 + log tf) * idf``, tf capped at
``MAX_TF`` so that a word repeated fifty times (a hostile string, a caption under every photo)
counts little more than one said three times, then scales it to length 1, so a long report and
a short one of the same event compare as equals. A story's centroid is the running sum of its
members' vectors: the words most of its reports use dominate it, and one member's odd words
fade, which is what keeps a story from chaining through its last member (single-link
clustering chains every missile launch of a season into one story).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from operator import itemgetter

Vector = dict[str, float]

MAX_TF = 4
KEEP = 120  # terms kept of an article's vector: the rest weigh little and cost space
CENTROID_KEEP = 400  # terms kept of a story's centroid
# The term-frequency factor ``1 + log tf`` for tf = 0 .. MAX_TF (0 is never used).
TF = (0.0, *(1.0 + math.log(n) for n in range(1, MAX_TF + 1)))
_WEIGHT = itemgetter(1)


def top_weights(weights: Mapping[str, float], keep: int = KEEP) -> Vector:
    """The positive weights, the ``keep`` heaviest if there are more (ties in their order)."""
    kept = {w: x for w, x in weights.items() if x > 0}
    if len(kept) > keep:
        kept = dict(sorted(kept.items(), key=_WEIGHT, reverse=True)[:keep])
    return kept


def normalized(vector: Mapping[str, float]) -> Vector:
    norm = math.sqrt(sum(x * x for x in vector.values()))
    return {w: x / norm for w, x in vector.items()} if norm else {}


def norm(vector: Mapping[str, float]) -> float:
    return math.sqrt(sum(x * x for x in vector.values()))


def cosine(a: Mapping[str, float], b: Mapping[str, float], b_norm: float | None = None) -> float:
    """Cosine of a unit vector ``a`` and any vector ``b`` (a centroid: pass its norm if known)."""
    if len(a) > len(b):
        small, large = b, a
    else:
        small, large = a, b
    # Only the shared words add to the sum, in the smaller vector's order: the same sum, bit
    # for bit, as adding every word's product with 0.0 for the missing ones, at half the cost.
    dot = sum([x * large[w] for w, x in small.items() if w in large])
    denominator = b_norm if b_norm is not None else norm(b)
    return dot / denominator if denominator else 0.0


def add_to_centroid(centroid: Mapping[str, float], vector: Mapping[str, float]) -> Vector:
    """The centroid with one more member, its ``CENTROID_KEEP`` heaviest terms."""
    summed = dict(centroid)
    for w, x in vector.items():
        summed[w] = summed.get(w, 0.0) + x
    if len(summed) > CENTROID_KEEP:
        summed = dict(sorted(summed.items(), key=_WEIGHT, reverse=True)[:CENTROID_KEEP])
    return summed


def shared_terms(
    a: Mapping[str, float], b: Mapping[str, float], limit: int = 8
) -> list[tuple[str, float]]:
    """The words that make ``a`` and ``b`` alike, heaviest contribution first: why an article
    joined a story, in words an analyst can check."""
    both = [(w, a[w] * b[w]) for w in a.keys() & b.keys()]
    both.sort(key=lambda kv: (-kv[1], kv[0]))  # ties by word: the same list in any process
    return [(w, round(x, 4)) for w, x in both[:limit]]


def top_terms(vector: Mapping[str, float], count: int) -> list[str]:
    """The ``count`` heaviest terms, heaviest first (ties in the vector's order)."""
    return [w for w, _ in sorted(vector.items(), key=_WEIGHT, reverse=True)[:count]]
