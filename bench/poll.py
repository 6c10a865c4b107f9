"""Polling end to end: 1,000 feeds of 50 items on 127.0.0.1, cold and then warm (all 304).

The feeds are served by a ThreadingHTTPServer in a child process (so the server's CPU does not
compete with the poller for one GIL), with ETags so that the warm pass is all 304s. The cold
pass runs the whole service cycle: fetch, parse, normalize, dedup, store, stories, match,
alerts. The baseline is a plain sequential loop of httpx.get + feedparser.parse over the same
feeds in the same process, storing nothing. Fixed random seed; prints feeds/s, items/s, peak
memory (max RSS) and the ratios.

    .venv/bin/python bench/poll.py            # 1,000 feeds x 50 items
    .venv/bin/python bench/poll.py --feeds 100
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20190801
WORDS = (
    "port ship cargo vessel harbour grain rice oil fuel tanker price market trade minister "
    "official report said week year month government talks border river city province farm "
    "factory workers permit visa labour bank fund loan sanctions council committee inquiry "
    "shipment customs coast navy weather rain flood storm drought harvest export import "
    "railway bridge road power plant coal steel timber fishing fleet crew captain registry"
).split()
HOOKS = [
    "North Korean workers were issued new work permits in Russia, officials said.",
    "A tanker carried out a ship-to-ship transfer of oil to a North Korean vessel.",
    "North Korea fired a missile into the sea on Thursday.",
]


def build_feeds(count: int, items: int) -> list[bytes]:
    """``count`` RSS 2.0 documents of ``items`` items each, the same for the same seed."""
    rng = random.Random(SEED)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    feeds = []
    for f in range(count):
        parts = []
        for i in range(items):
            words = rng.choices(WORDS, k=rng.randint(60, 110))
            sentences = [" ".join(words[j : j + 12]).capitalize() + "." for j in range(0, 99, 12)]
            if rng.random() < 0.02:
                sentences.insert(1, rng.choice(HOOKS))
            when = start + timedelta(minutes=rng.randint(0, 60 * 24 * 365 * 20))
            title = " ".join(rng.choices(WORDS, k=7)).capitalize()
            body = "".join(f"<p>{s}</p>" for s in sentences if s != ".")
            parts.append(
                f"<item><title>{title}</title><link>https://outlet{f}.example/{i}</link>"
                f"<guid>outlet{f}-{i}</guid><pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{sentences[0]}</description>"
                f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
            )
        feeds.append(
            (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
                f"<title>Outlet {f}</title><link>https://outlet{f}.example/</link>"
                + "".join(parts)
                + "</channel></rss>"
            ).encode()
        )
    return feeds


def serve(count: int, items: int) -> None:
    """Child process: serve the feeds with ETags; print the port, then serve until killed."""
    feeds = build_feeds(count, items)
    etags = ['"' + hashlib.sha1(b).hexdigest()[:16] + '"' for b in feeds]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            n = int(self.path.rsplit("/", 1)[-1])
            if self.headers.get("If-None-Match") == etags[n]:
                self.send_response(304)
                self.send_header("ETag", etags[n])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etags[n])
            self.send_header("Content-Length", str(len(feeds[n])))
            self.end_headers()
            self.wfile.write(feeds[n])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.items)
        return

    import feedparser
    import httpx

    from monitor.config import FeedConfig, HttpConfig, Settings
    from monitor.service import Service

    logging.basicConfig(level=logging.WARNING)
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--feeds",
            str(args.feeds),
            "--items",
            str(args.items),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(child.stdout.readline())
        base = f"http://127.0.0.1:{port}/feed/"
        urls = [f"{base}{n}" for n in range(args.feeds)]
        total_items = args.feeds * args.items
        print(f"{args.feeds} feeds x {args.items} items on 127.0.0.1:{port}, seed {SEED}")
        with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
            settings = Settings(
                database_url=f"sqlite:///{tmp}/bench.db",
                rules_dir=ROOT / "rules",
                routes=[],  # alerts are stored; no channel to send them to here
                feeds=[FeedConfig(name=f"outlet{n}", url=u) for n, u in enumerate(urls)],
                # One host serves every feed here, so the per-host cap is lifted to the pool size.
                http=HttpConfig(
                    allow_networks=["127.0.0.1"],
                    concurrency=args.concurrency,
                    per_host=args.concurrency,
                ),
            )
            service = Service(settings, notifiers={})
            service.poller.rng = random.Random(SEED)
            ingest_s = [0.0]  # time in the pipeline (store, dedup, stories, match, alerts)
            ingest = service.pipeline.ingest

            def timed_ingest(articles):
                began = time.perf_counter()
                try:
                    return ingest(articles)
                finally:
                    ingest_s[0] += time.perf_counter() - began

            service.pipeline.ingest = timed_ingest
            started = time.perf_counter()
            cold = service.cycle(force=True)
            cold_s = time.perf_counter() - started
            cold_peak = peak_mb()
            started = time.perf_counter()
            warm = service.cycle(force=True)
            warm_s = time.perf_counter() - started
            warm_peak = peak_mb()
            service.close()
        assert cold.failed_feeds == 0 and warm.failed_feeds == 0, (cold, warm)
        assert cold.ingest.new == total_items, cold.ingest
        assert warm.ingest.new == 0

        started = time.perf_counter()
        parsed = 0
        with httpx.Client() as client:
            for url in urls:
                response = client.get(url)
                parsed += len(feedparser.parse(response.content).entries)
        base_s = time.perf_counter() - started
        assert parsed == total_items
    finally:
        child.kill()
        child.wait()

    def line(name: str, seconds: float, items: int, peak: float) -> str:
        return (
            f"{name:<34} {seconds:7.1f} s  {args.feeds / seconds:8.1f} feeds/s  "
            f"{items / seconds:9.0f} items/s  peak RSS {peak:6.0f} MB"
        )

    print(line("cold (fetch+parse+store+match)", cold_s, total_items, cold_peak))
    print(f"{'':<34} {cold.ingest.matches} match(es), {len(cold.ingest.changed_alerts)} alert(s)")
    print(
        f"{'':<34} of which {ingest_s[0]:.1f} s in pipeline.ingest "
        f"({ingest_s[0] / total_items * 1000:.1f} ms an item); fetch+parse overlaps it"
    )
    print(line("warm (all 304)", warm_s, total_items, warm_peak))
    print(line("baseline httpx.get+feedparser", base_s, total_items, peak_mb()))
    print(f"cold / baseline throughput: {base_s / cold_s:.2f}x")
    print(f"warm / baseline throughput: {base_s / warm_s:.1f}x")


if __name__ == "__main__":
    main()
