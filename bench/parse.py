"""CPU an item of parsing, feedparser against the fast reader, in one process.

Each corpus goes through ``parse_feed`` (decoding, the XML guard, the reader, HTML to text,
canonical links: all a poll pays for parsing) with ``fast=False`` (feedparser) and with the
fast reader in front, alternately, best of ``--rounds``; the two results are compared first,
Article by Article, so a broken fast path cannot look fast. The corpora:

- fixtures: every feed in ``tests/fixtures/feeds`` and ``seeds/feeds`` (small, real formats:
  RSS 0.91 to 2.0, RDF, Atom 0.3 and 1.0, JSON Feed, an ill-formed one), repeated;
- poll: the feeds ``bench/poll.py`` serves (RSS 2.0, 50 items of 60 to 110 words in HTML);
- generated: the varied feeds of ``tests/feedgen.py`` (odd, repeated and broken elements;
  a tenth of them declined by the fast reader).

    .venv/bin/python bench/parse.py
    .venv/bin/python bench/parse.py --feeds 200 --generated 1000 --rounds 5
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.ingest import fastfeed  # noqa: E402
from monitor.ingest.encoding import decode, defuse  # noqa: E402
from monitor.ingest.parse import FeedParseError, ParsedFeed, parse_feed  # noqa: E402
from tests.feedgen import document  # noqa: E402

Doc = tuple[bytes, str, dict[str, str]]  # body, url, headers


def fixtures() -> list[Doc]:
    paths = [*sorted((ROOT / "tests/fixtures/feeds").iterdir())]
    paths += sorted((ROOT / "seeds/feeds").iterdir())
    return [(p.read_bytes(), f"https://feeds.example/{p.name}", {}) for p in paths]


def poll_feeds(count: int) -> list[Doc]:
    spec = importlib.util.spec_from_file_location("bench_poll", ROOT / "bench" / "poll.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_poll"] = module
    spec.loader.exec_module(module)
    headers = {"Content-Type": "application/rss+xml"}
    return [
        (body, f"http://127.0.0.1:8000/feed/{n}", headers)
        for n, body in enumerate(module.build_feeds(count, 50))
    ]


def generated(count: int) -> list[Doc]:
    return [(document(seed), "https://feeds.example/g.xml", {}) for seed in range(count)]


def parse_all(docs: list[Doc], fast: bool) -> list[ParsedFeed | str]:
    out: list[ParsedFeed | str] = []
    for body, url, headers in docs:
        try:
            out.append(parse_feed(body, url, headers, "bench", fast=fast))
        except FeedParseError as exc:
            out.append(str(exc))
    return out


def cpu(call: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        call()
        best = min(best, time.process_time() - started)
    return best


def taken(docs: list[Doc]) -> int:
    """How many documents the fast reader reads itself (the rest go to feedparser)."""
    count = 0
    for body, url, headers in docs:
        try:
            text, _ = defuse(decode(body, headers.get("Content-Type", "")).text)
        except ValueError:
            continue
        count += fastfeed.read(text, url) is not None
    return count


def measure(name: str, docs: list[Doc], rounds: int, repeat: int = 1) -> None:
    slow, quick = parse_all(docs, fast=False), parse_all(docs, fast=True)
    if slow != quick:
        raise SystemExit(f"{name}: the fast path's result differs from feedparser's")
    items = repeat * sum(p.entries for p in slow if isinstance(p, ParsedFeed))
    docs = docs * repeat
    seconds = {}
    for fast in (False, True, False, True):  # alternately, so neither gets a warmer cache
        spent = cpu(lambda fast=fast: parse_all(docs, fast=fast), rounds)
        seconds[fast] = min(seconds.get(fast, spent), spent)
    before, after = (1000 * seconds[f] / items for f in (False, True))
    print(
        f"{name:<10} {len(docs):>6} docs {items:>7} items   feedparser {before:.3f} ms/item   "
        f"fast path {after:.3f} ms/item   {before / after:.1f}x   "
        f"(fast reader took {taken(docs) * 100 // len(docs)}% of the documents)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=40, help="bench/poll.py feeds (50 items)")
    parser.add_argument("--generated", type=int, default=300, help="tests/feedgen.py feeds")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    print(f"CPU an item through parse_feed, best of {args.rounds} (time.process_time)")
    measure("fixtures", fixtures(), args.rounds, repeat=20)
    measure("poll", poll_feeds(args.feeds), args.rounds)
    measure("generated", generated(args.generated), args.rounds)


if __name__ == "__main__":
    main()
