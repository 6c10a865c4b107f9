"""Rule matching speed: the compiled matcher against a naive loop of re.search.

1,000 generated rules of 5 terms each (``all: [a, b]``, three phrases in ``a``, two in ``b``,
some multi-word, some wildcards) over 2,000 generated articles of about 4 KB. The compiled
matcher runs on every article, with spans and citation sentences; the naive matcher (one
``re.search`` per phrase per rule) runs on a sample, and both must give the same rules for every
sampled article. Prints articles/s, the per-article ratio, and the automaton's build time.

    .venv/bin/python bench/rules.py [--rules 1000] [--articles 2000] [--sample 40]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.detect.rules import Matcher, load_rules  # noqa: E402

SEED = 20261122
# Share of sentences that carry both halves of some rule: about one match per article, more
# than a real feed (where most articles match nothing) so that the citation path is measured.
PLANT_RATE = 0.03


def vocabulary(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    return sorted(words)


def make_rules(
    rng: random.Random, words: list[str], count: int, folder: Path
) -> list[list[list[str]]]:
    """Write rule files; return each rule's phrases as [[a phrases], [b phrases]]."""
    shapes = []
    for i in range(count):
        lists = []
        for size in (3, 2):
            phrases = []
            for _ in range(size):
                kind = rng.random()
                if kind < 0.3:
                    phrases.append(f"{rng.choice(words)} {rng.choice(words)}")
                elif kind < 0.5:
                    phrases.append(rng.choice(words)[:4] + "*")
                else:
                    phrases.append(rng.choice(words))
            lists.append(phrases)
        shapes.append(lists)
        a, b = (", ".join(f'"{p}"' for p in ps) for ps in lists)
        (folder / f"r{i:04d}.yaml").write_text(
            f"id: r{i:04d}\ntitle: Rule {i}\nterms:\n  a: [{a}]\n  b: [{b}]\n"
            "match:\n  all: [a, b]\n"
        )
    return shapes


def make_articles(rng: random.Random, words: list[str], shapes, count: int) -> list[str]:
    cumulative = list(accumulate(1 / (rank + 1) for rank in range(len(words))))
    articles = []
    for _ in range(count):
        out: list[str] = []
        size = 0
        while size < 4000:
            sentence = rng.choices(words, cum_weights=cumulative, k=rng.randint(8, 24))
            if rng.random() < PLANT_RATE:  # plant a rule's phrases so that some rules fire
                a, b = rng.choice(shapes)
                sentence[1] = rng.choice(a).replace("*", "ing")
                sentence[-2] = rng.choice(b).replace("*", "ed")
            text = " ".join(sentence).capitalize() + "."
            out.append(text)
            size += len(text) + 1
        articles.append(" ".join(out))
    return articles


def naive_regexes(shapes) -> list[list[list[re.Pattern[str]]]]:
    def compile_phrase(phrase: str) -> re.Pattern[str]:
        prefix = phrase.endswith("*")
        body = r"[\W_]+".join(re.escape(t) for t in phrase.rstrip("*").split())
        tail = r"[^\W_]*" if prefix else ""
        return re.compile(rf"(?<![^\W_]){body}{tail}(?![^\W_])", re.IGNORECASE)

    return [[[compile_phrase(p) for p in ps] for ps in lists] for lists in shapes]


def naive_match(regexes, text: str) -> set[str]:
    matched = set()
    for i, lists in enumerate(regexes):
        if all(any(rx.search(text) for rx in ps) for ps in lists):
            matched.add(f"r{i:04d}")
    return matched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=40)
    args = parser.parse_args()

    rng = random.Random(SEED)
    # Articles draw on a Zipf-weighted vocabulary of 30,000 words; rule terms are drawn from
    # outside its 300 most frequent words, as real rule authors avoid "the" and "said".
    words = vocabulary(rng, 30000)
    with tempfile.TemporaryDirectory() as tmp:
        shapes = make_rules(rng, words[300:], args.rules, Path(tmp))
        started = time.process_time()
        source = load_rules(Path(tmp))
        parsed = time.process_time()
        assert not source.problems, source.problems[:3]
        matcher = Matcher(source.rules)
        built = time.process_time()
    articles = make_articles(rng, words, shapes, args.articles)

    # Best of three passes, as timeit does: the machine's other work only ever adds time.
    compiled_s = float("inf")
    for _ in range(3):
        started_match = time.process_time()
        results = []
        sentences = 0
        for text in articles:
            matches = matcher.match({"text": text})
            sentences += sum(len(m.sentences) for m in matches)
            results.append({m.rule.id for m in matches})
        compiled_s = min(compiled_s, time.process_time() - started_match)
    per_compiled = compiled_s / len(articles)

    regexes = naive_regexes(shapes)
    sample = rng.sample(range(len(articles)), min(args.sample, len(articles)))
    started_naive = time.process_time()
    mismatches = 0
    for index in sample:
        if naive_match(regexes, articles[index]) != results[index]:
            mismatches += 1
    naive_s = time.process_time() - started_naive
    per_naive = naive_s / len(sample)

    fired = sum(len(r) for r in results)
    print(
        f"rules: {len(source.rules)} parsed in {parsed - started:.2f}s, "
        f"automaton built in {(built - parsed) * 1000:.0f} ms"
    )
    print(
        f"articles: {len(articles)} of ~{sum(map(len, articles)) // len(articles)} chars; "
        f"{fired} rule matches, {sentences} citation sentences"
    )
    print(
        f"compiled matcher: {len(articles) / compiled_s:,.0f} articles/s "
        f"({per_compiled * 1000:.3f} ms/article, one core, best of 3 passes)"
    )
    print(f"naive re.search loop: {1 / per_naive:,.2f} articles/s on a sample of {len(sample)}")
    print(f"ratio: {per_naive / per_compiled:,.0f}x faster than naive")
    print(f"identical results on {len(sample) - mismatches}/{len(sample)} sampled articles")
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
