"""The single writer as the store grows: what storing a feed's batch costs with 0, 100,000 and
1,000,000 articles already stored.

The items are bench/poll.py's (50 a feed, 60 to 110 words drawn by frequency from common
English words, 2% with a sentence the rules look for), parsed and prepared beforehand as the
parser processes hand them over, so what is timed is ``Pipeline.ingest`` alone: the earlier
failures, the dedup against stored and forgotten articles, the insert, the word counts, the
stories and alerts of those that match, the commit. Before each size the store is filled with
that many articles of the same shape (their own guids, URLs and hashes, a short text), written
straight into the table in large transactions, then vacuumed, analysed and checkpointed, as a
store that grew over months would be (filling a million through the pipeline would take longer
than the measurement is worth). PostgreSQL's ``CHECKPOINT`` needs a superuser or the
``pg_checkpoint`` role, as the test server's ``postgres`` has.

The baseline is the same batches inserted as plain rows, one multi-row INSERT and one commit a
feed, with no dedup, words, stories or rules, into the same store in the same process: what a
batch costs the store itself. Printed for each store and size: wall and CPU ms an item for the
writer and the baseline, and their ratio. SQLite always; PostgreSQL too when
MONITOR_TEST_POSTGRES_URL is set (a schema of its own, dropped after).

    .venv/bin/python bench/ingest.py                          # 0, 100k, 1M; 100 feeds timed
    .venv/bin/python bench/ingest.py --sizes 0,100000 --feeds 50
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from poll import build_feeds, postgres_schema  # noqa: E402

from monitor.detect.pipeline import Pipeline  # noqa: E402
from monitor.detect.prepared import digest_of, prepare_all  # noqa: E402
from monitor.detect.rules import Matcher  # noqa: E402
from monitor.ingest.parse import parse_feed  # noqa: E402
from monitor.models import Article  # noqa: E402
from monitor.service.cycle import compile_rules  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.tables import ArticleRow  # noqa: E402

FILL_CHUNK = 20_000  # filler rows a transaction


@dataclass
class Timing:
    wall: float
    cpu: float


def prepared_batches(feeds: int, matcher: Matcher) -> list[bytes]:
    """Each feed's articles, parsed and prepared as a parser process would send them,
    pickled so that every measurement starts from its own copy. ``matcher`` must be the
    writer's, as the service's parser processes share its rule set: with another, the writer
    would match every article again."""
    batches = []
    for n, body in enumerate(build_feeds(feeds, 50)):
        parsed = parse_feed(body, f"https://outlet{n}.example/feed", {}, f"outlet{n}")
        prepare_all(parsed.articles, matcher)
        batches.append(pickle.dumps(parsed.articles))
    return batches


def fill(store: Store, count: int) -> float:
    """Write ``count`` filler articles straight into the table; returns the seconds taken."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    table = ArticleRow.__table__
    with store.engine.connect() as connection:
        for start in range(0, count, FILL_CHUNK):
            rows = [
                {
                    "external_id": f"filler-{n}",
                    "feed": f"archive{n % 500}",
                    "url": f"https://archive{n % 500}.example/{n}",
                    "canonical_url": f"https://archive{n % 500}.example/{n}",
                    "content_hash": f"{n:064x}",
                    "source": f"Archive {n % 500}",
                    "title": f"Filed report {n}",
                    "text": f"Filed report number {n} from the archive.",
                    "published": now - timedelta(minutes=n),
                    "fetched": now - timedelta(minutes=n),
                    "dated": now - timedelta(minutes=n),
                }
                for n in range(start, min(count, start + FILL_CHUNK))
            ]
            connection.execute(table.insert(), rows)
            connection.commit()
    settle(store)
    return time.perf_counter() - started


def settle(store: Store) -> None:
    """Leave the filled store as one that grew over months: vacuumed, its statistics fresh,
    its write-ahead log written back, so that no autovacuum or checkpoint of a million new rows
    runs during the measurement, on the same two cores. (It did not explain the PostgreSQL
    writer's 0.61 ms an item at 1M in this bench's first run: that was the writer's own
    ANALYZE, since fixed in monitor/store/statistics.py.)"""
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "postgresql":
            quiet = connection.execution_options(isolation_level="AUTOCOMMIT")
            quiet.exec_driver_sql("VACUUM ANALYZE articles, forgotten")
            quiet.exec_driver_sql("CHECKPOINT")
        else:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.commit()


def timed(work) -> Timing:
    wall, cpu = time.perf_counter(), time.thread_time()
    work()
    return Timing(time.perf_counter() - wall, time.thread_time() - cpu)


def writer(store: Store, batches: list[bytes], matcher: Matcher) -> Timing:
    pipeline = Pipeline(store, matcher)
    loaded = [pickle.loads(b) for b in batches]
    return timed(lambda: [pipeline.ingest(articles) for articles in loaded])


def baseline(store: Store, batches: list[bytes]) -> Timing:
    """The same articles as plain rows: one multi-row insert and one commit a feed."""
    loaded: list[list[Article]] = [pickle.loads(b) for b in batches]
    table = ArticleRow.__table__
    now = datetime.now(UTC)

    def insert_all() -> None:
        with store.engine.connect() as connection:
            for articles in loaded:
                rows = [
                    {
                        "external_id": a.external_id,
                        "feed": a.feed,
                        "url": a.url,
                        "canonical_url": a.canonical_url,
                        "content_hash": digest_of(a),
                        "source": a.source,
                        "title": a.title,
                        "text": a.text,
                        "published": a.published,
                        "fetched": now,
                        "dated": a.published or now,
                    }
                    for a in articles
                ]
                connection.execute(table.insert(), rows)
                connection.commit()

    return timed(insert_all)


def measure(url: str, size: int, batches: list[bytes], matcher: Matcher, items: int) -> str:
    store = Store(url)
    try:
        filled = fill(store, size)
        ours = writer(store, batches, matcher)
        plain = baseline(store, batches)
    finally:
        store.close()
    each = 1000 / items
    return (
        f"| {store.engine.dialect.name} | {size:,} | {filled:.0f} s | {ours.wall * each:.3f} | "
        f"{ours.cpu * each:.3f} | {plain.wall * each:.3f} | {plain.cpu * each:.3f} | "
        f"{ours.wall / plain.wall:.1f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,100000,1000000", help="articles stored first")
    parser.add_argument("--feeds", type=int, default=100, help="feeds of 50 items timed")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    matcher = compile_rules(ROOT / "rules")
    batches = prepared_batches(args.feeds, matcher)
    items = args.feeds * 50
    print(f"{items:,} items in {args.feeds} batches, timed at each size of store", flush=True)
    print(
        "\n| store | articles stored first | fill | writer wall ms/item | writer CPU ms/item "
        "| plain insert wall ms/item | plain insert CPU ms/item | writer vs plain insert |"
    )
    print("| --- " * 8 + "|")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            print(measure(f"sqlite:///{tmp}/bench.db", size, batches, matcher, items), flush=True)
    pg = os.environ.get("MONITOR_TEST_POSTGRES_URL")
    if pg:
        for size in sizes:
            with postgres_schema(pg) as url:
                print(measure(url, size, batches, matcher, items), flush=True)


if __name__ == "__main__":
    main()
