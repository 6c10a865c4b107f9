"""The console's pages with 100,000 stored articles: each must answer in under 100 ms.

Fills a SQLite store (or ``--db URL``) with ``--articles`` articles in stories of five, one in
ten cited by an alert, then times every page over real HTTP on 127.0.0.1 (median and worst of
``--repeat`` requests). The baseline is the list built the simple way, as ``monitor alerts
list`` does: every alert loaded with its citations, then sorted in Python.

    .venv/bin/python bench/console.py [--articles 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.alerting.alerts import load_alert  # noqa: E402
from monitor.console import Console  # noqa: E402
from monitor.detect.rules.parse import valid_rules  # noqa: E402
from monitor.service.metrics import Metrics  # noqa: E402
from monitor.service.web import HealthServer  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.alerts import list_alert_ids  # noqa: E402
from monitor.store.tables import AlertRow, ArticleRow, CitationRow, StoryRow  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORDS = "harbour tanker permit ministry workers council budget ferry market railway".split()
RULES = ("dprk-overseas-labor", "dprk-oil-transfer", "dprk-sanctions-evasion")


def fill(store: Store, articles: int) -> None:
    rng = random.Random(7)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    stories, rows, alerts, citations = [], [], {}, []
    for n in range(articles):
        story = f"st-{n // 5:08d}"
        when = start + timedelta(minutes=n)
        if n % 5 == 0:
            stories.append(
                {
                    "id": story,
                    "headline": f"Story {n // 5}: {rng.choice(WORDS)}",
                    "first_published": when,
                    "last_published": when + timedelta(minutes=4),
                    "created": when,
                }  # fmt: skip
            )
        text = " ".join(rng.choice(WORDS) for _ in range(120))
        rows.append(
            {
                "id": n + 1,
                "external_id": f"a-{n}",
                "feed": "bench",
                "url": f"https://x.example/{n}",
                "canonical_url": f"https://x.example/{n}",
                "content_hash": f"h{n}",
                "source": f"Outlet {n % 40}",
                "title": f"Report {n}",
                "text": text,
                "published": when,
                "fetched": when,
                "dated": when,
                "story_id": story,
            }  # fmt: skip
        )
        if n % 10 == 0:
            rule = RULES[(n // 10) % 3]
            alert_id = f"al-{rule[:8]}-{story}"
            alerts.setdefault(
                alert_id,
                {
                    "id": alert_id,
                    "rule_id": rule,
                    "story_id": story,
                    "title": rule,
                    "severity": "high",
                    "tags": [],
                    "labels": {},
                    "rule_version": "v1",
                    "revision": 1,
                    "queued": 1,
                    "created": when,
                    "updated": when,
                },  # fmt: skip
            )
            sentence = f"{rng.choice(WORDS)} workers sent abroad under new permits {n}."
            citations.append(
                {
                    "alert_id": alert_id,
                    "article_id": n + 1,
                    "rule_version": "v1",
                    "sentences": [{"field": "text", "text": sentence, "marks": [[0, 7]]}],
                    "created": when,
                }  # fmt: skip
            )
    with store.session() as session:
        for table, values in (
            (StoryRow, stories), (ArticleRow, rows), (AlertRow, list(alerts.values())),
            (CitationRow, citations),
        ):  # fmt: skip
            for chunk in range(0, len(values), 5000):
                session.execute(insert(table.__table__), values[chunk : chunk + 5000])
        session.commit()
    print(f"stored {articles:,} articles, {len(stories):,} stories, {len(alerts):,} alerts, "
          f"{len(citations):,} citations")  # fmt: skip


def timed(call, repeat: int) -> tuple[float, float]:
    call()  # warm: templates compiled, pages of the database cached
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times)


def simple_list(store: Store) -> None:
    """The baseline: every alert with its citations, grouped by story in Python."""
    with store.session() as session:
        views = [load_alert(session, i) for i in list_alert_ids(session)]
    stories: dict[str, list] = {}
    for view in views:
        stories.setdefault(view.story, []).append(view)
    sorted(stories.items(), key=lambda kv: max(v.updated for v in kv[1]), reverse=True)[:50]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--db", help="store URL (default: a SQLite file in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}")
        fill(store, args.articles)
        rules = valid_rules(ROOT / "rules")
        metrics = Metrics()
        console = Console(store, lambda: rules)
        server = HealthServer("127.0.0.1", 0, metrics.registry, dict, console)
        server.start()
        story = "st-00010000"
        pages = {
            "/ (list)": "/",
            "/?q=permits 555 (search)": "/?q=permits+555",
            "/?rule=…&since=90d": "/?rule=dprk-oil-transfer&since=90d",
            "/?page=50": "/?page=50",
            f"/stories/{story}": f"/stories/{story}",
            "/rules/dprk-oil-transfer": "/rules/dprk-oil-transfer",
            "/api/stories": "/api/stories",
        }
        base, _ = timed(lambda: simple_list(store), max(3, args.repeat // 5))
        print(f"{'page':34} {'median':>9} {'worst':>9}  against the simple list ({base:.0f} ms)")
        slowest = 0.0
        with httpx.Client(base_url=server.url, trust_env=False) as client:
            for name, path in pages.items():
                assert client.get(path).status_code == 200, path
                median, worst = timed(lambda p=path: client.get(p), args.repeat)
                slowest = max(slowest, median)
                print(f"{name:34} {median:7.1f}ms {worst:7.1f}ms  {base / median:6.1f}x")
        server.stop()
        store.close()
    print(f"slowest page (median): {slowest:.1f} ms: {'OK' if slowest < 100 else 'OVER'} 100 ms")


if __name__ == "__main__":
    main()
