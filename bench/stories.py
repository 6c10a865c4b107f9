"""Story clustering cost as history grows, and its accuracy on planted rewrites.

100,000 generated articles arrive one every 30 seconds; 10% are rewrites of an article from the
previous few hours (sentences dropped, words swapped, a sentence added), the rest are new
events. Each article goes through the real story index (rensa MinHash LSH over word sets,
window filter, exact 3-gram confirmation). The bench prints ms per article at 1k, 10k and 100k
articles of history, precision and recall of the joins against the planted truth, and the
ratio against a pairwise baseline (exact 3-gram comparison with every earlier article) on the
first 2,000 articles, run in the same process.

    .venv/bin/python bench/stories.py [--articles 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.detect.stories import StoryIndex, StoryPolicy, signature, similarity  # noqa: E402
from monitor.util.text import shingles  # noqa: E402

SEED = 20261122
START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=30)
CHECKPOINTS = (1_000, 10_000, 100_000)
BATCH = 500  # articles timed after each checkpoint


def make_corpus(rng: random.Random, count: int) -> tuple[list[str], dict[int, int]]:
    """Texts, and for each planted rewrite the index of the article it rewrites."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = sorted(
        {"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(60_000)}
    )
    # Cumulative weights once: passing plain weights makes every draw sum 60,000 of them.
    cumulative = list(accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(vocab))))

    def sentence() -> str:
        words = rng.choices(vocab, cum_weights=cumulative, k=rng.randint(10, 22))
        return " ".join(words) + "."

    texts: list[str] = []
    truth: dict[int, int] = {}
    for i in range(count):
        if i > 50 and rng.random() < 0.10:
            source = rng.randint(max(0, i - 400), i - 1)
            while source in truth:  # rewrite an original, so the truth is one pair per rewrite
                source = truth[source]
            kept = [s for s in texts[source].split(". ") if rng.random() < 0.75]
            words = " ".join(kept).split()
            for j in range(len(words)):
                if rng.random() < 0.12:
                    words[j] = rng.choice(vocab)
            texts.append(" ".join(words) + " " + sentence() + " " + sentence())
            truth[i] = source
        else:
            texts.append(" ".join(sentence() for _ in range(rng.randint(6, 10))))
    return texts, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(SEED)
    texts, truth = make_corpus(rng, args.articles)
    policy = StoryPolicy()
    index = StoryIndex()
    grams: dict[int, set[int]] = {}  # the bench's stand-in for reading texts from the store
    story: dict[int, int] = {}
    joined: dict[int, int] = {}
    timings: dict[int, float] = {}
    window_start = None

    starts = {c for c in CHECKPOINTS if c + BATCH <= len(texts)} | {len(texts) - BATCH}
    for i, text in enumerate(texts):
        if i in starts:
            window_start, timed_from = time.process_time(), i
        when = START + STEP * i
        mine = shingles(text)
        minhash = signature("", text)
        best, best_score = None, 0.0
        for key in index.candidates(minhash, when - policy.window, when + policy.window):
            jaccard, containment = similarity(mine, grams[key])
            passes = jaccard >= policy.min_jaccard or containment >= policy.min_containment
            if passes and max(jaccard, containment) > best_score:
                best, best_score = key, max(jaccard, containment)
        index.add(i + 1, when, minhash)  # keys from 1, as article ids are
        grams[i + 1] = mine
        if best is None:
            story[i] = i
        else:
            joined[i] = best - 1
            story[i] = story[best - 1]
        if window_start is not None and i + 1 - timed_from == BATCH:
            timings[timed_from] = (time.process_time() - window_start) / BATCH * 1000
            window_start = None

    planted = set(truth)
    correct = {i for i, j in joined.items() if i in truth and story[j] == story[truth[i]]}
    precision = len(correct) / len(joined) if joined else 1.0
    recall = len(correct) / len(planted) if planted else 1.0

    # Pairwise baseline on the first 2,000 articles, same process.
    first = min(2000, len(texts))
    base_grams = [shingles(t) for t in texts[:first]]
    started = time.process_time()
    base_joined = 0
    for i in range(first):
        for j in range(i):
            jaccard, containment = similarity(base_grams[i], base_grams[j])
            if jaccard >= policy.min_jaccard or containment >= policy.min_containment:
                base_joined += 1
                break
    pairwise_ms = (time.process_time() - started) / first * 1000
    started = time.process_time()
    probe = StoryIndex()
    for i in range(first):
        when = START + STEP * i
        minhash = signature("", texts[i])
        for key in probe.candidates(minhash, when - policy.window, when + policy.window):
            similarity(base_grams[i], base_grams[key - 1])
        probe.add(i + 1, when, minhash)
    lsh_ms = (time.process_time() - started) / first * 1000

    print(f"articles: {len(texts):,}, planted rewrites: {len(planted):,}")
    for at, ms in sorted(timings.items()):
        print(f"story lookup with {at:>7,} articles in history: {ms:.3f} ms/article")
    print(
        f"joins: {len(joined):,}; precision {precision:.3f}, recall {recall:.3f} "
        f"against the planted rewrites"
    )
    print(
        f"first {first:,} articles: pairwise baseline {pairwise_ms:.3f} ms/article, "
        f"LSH {lsh_ms:.3f} ms/article (shingling excluded from both), "
        f"ratio {pairwise_ms / lsh_ms:.1f}x"
    )


if __name__ == "__main__":
    main()
