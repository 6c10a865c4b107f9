"""Polling end to end: 1,000 feeds of 50 items on 127.0.0.1, cold and then warm (all 304).

Each item is 60 to 110 words drawn by their frequency from the 30,000 commonest English
words (wordfreq), so a feed uses as many distinct words as real news, and 2% carry a sentence
of the kind the rules look for; items are dated over the week before the day the bench runs
(the same feeds all day). The feeds are served by a ThreadingHTTPServer in a child process
(so the server's CPU does not compete with the poller for one GIL), with ETags so that the
warm pass is all 304s. Each response waits ``--latency`` (100 ms by default) before it is
written, as a real feed host far away would, and is written with TCP_NODELAY: without it,
headers and body sent apart stalled every request ~40 ms on delayed ACK, an accident that
made the plain loop look slow.

The cold pass runs the whole service cycle: fetch, parse (in parser processes, one a core),
normalize, dedup, store, stories, match, alerts. The baseline is a plain sequential loop of
httpx.get + feedparser.parse over the same server in the same run, storing nothing. In the
stage split, fetch is wall time summed over the polling threads (they overlap), parse is CPU
time wherever it ran (with the preparing of each article's words for the writer, done in
the same place), ingest (and within it stories and rules) is the writer's wall time, record
is the writer's wall time recording polls apart from their articles (those that stored
nothing; a poll that stored articles is recorded in their transaction, inside ingest), and the
writer's CPU an item is the CPU time of the writer thread in ingest (the single thread that
bounds a cold pass). CPU an item is this process's CPU time and that of its parser
processes, over the items stored. Fixed random seed. Other work on the machine makes wall
times noisy; the CPU figures much less so.

    .venv/bin/python bench/poll.py                     # 1,000 feeds x 50 items, 100 ms
    .venv/bin/python bench/poll.py --feeds 300 --latency 0.05
    MONITOR_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/poll.py                 # SQLite, then PostgreSQL
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20190801
STAGES = ("fetch", "parse", "ingest", "stories", "rules", "record")
WRITER = ("ingest", "stories", "rules")  # also timed in CPU seconds of the writer thread
VOCABULARY = 30_000  # English words, drawn by their frequency in general text (wordfreq)
HOOKS = [
    "North Korean workers were issued new work permits in Russia, officials said.",
    "A tanker carried out a ship-to-ship transfer of oil to a North Korean vessel.",
    "North Korea fired a missile into the sea on Thursday.",
]


def vocabulary() -> tuple[list[str], list[float]]:
    """The commonest English words with their frequencies: items drawn from them use as many
    distinct words as real news does (a few thousand a feed, a vocabulary that keeps growing),
    which is what the matcher's word counts and index cost, and a handful of made-up words
    would hide."""
    import wordfreq

    words = [w for w in wordfreq.top_n_list("en", VOCABULARY) if w.isalpha() and w.isascii()]
    return words, [wordfreq.word_frequency(w, "en") for w in words]


def build_feed(
    rng: random.Random, f: int, items: int, drawn_from: tuple[list[str], list[float]]
) -> bytes:
    """One RSS 2.0 document of ``items`` items; the whole set is fixed by the seed."""
    # Dated over the week before today, as a feed's latest items are: every report is then
    # inside the story window, where joining costs what it costs in service (dates spread
    # over years made most reports too old to join anything).
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=7)
    known, frequency = drawn_from
    parts = []
    for i in range(items):
        words = rng.choices(known, frequency, k=rng.randint(60, 110))
        sentences = [" ".join(words[j : j + 12]).capitalize() + "." for j in range(0, 99, 12)]
        if rng.random() < 0.02:
            sentences.insert(1, rng.choice(HOOKS))
        when = start + timedelta(minutes=rng.randint(0, 60 * 24 * 7))
        title = " ".join(rng.choices(known, frequency, k=7)).capitalize()
        body = "".join(f"<p>{s}</p>" for s in sentences if s != ".")
        parts.append(
            f"<item><title>{title}</title><link>https://outlet{f}.example/{i}</link>"
            f"<guid>outlet{f}-{i}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{sentences[0]}</description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Outlet {f}</title><link>https://outlet{f}.example/</link>"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


def build_feeds(count: int, items: int) -> list[bytes]:
    rng = random.Random(SEED)
    words = vocabulary()
    return [build_feed(rng, f, items, words) for f in range(count)]


def serve(count: int, items: int, latency: float) -> None:
    """Child process: serve the feeds with ETags; print the port, then serve until killed."""
    feeds = build_feeds(count, items)
    etags = ['"' + hashlib.sha1(b).hexdigest()[:16] + '"' for b in feeds]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # TCP_NODELAY on the accepted socket

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            n = int(self.path.rsplit("/", 1)[-1])
            if latency:
                time.sleep(latency)
            fresh = self.headers.get("If-None-Match") != etags[n]
            body = feeds[n] if fresh else b""
            head = (
                f"HTTP/1.1 {200 if fresh else 304} {'OK' if fresh else 'Not Modified'}\r\n"
                f"Content-Type: application/rss+xml\r\nETag: {etags[n]}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            self.wfile.write(head + body)  # one write: no delayed-ACK stall between the two

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    print(server.server_address[1], flush=True)
    server.serve_forever()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peak_mb(service) -> float:
    """The largest peak RSS of the running parser processes, each read from its own
    ``/proc/PID/status`` (VmHWM) before they stop; 0 where there is no /proc.

    Not ``getrusage(RUSAGE_CHILDREN)``: a spawned worker starts as a fork of this process, and
    Linux counts what the fork shared before the exec into the child's peak, so that figure was
    this process's size when the pool started (101 MB for the first store's workers, 207 for the
    second's, whose own peak was far below)."""
    pool = getattr(getattr(service.poller, "parsers", None), "_pool", None)
    peak = 0.0
    for process in (getattr(pool, "_processes", None) or {}).values():
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def cpu_seconds() -> float:
    """CPU of this process and of the worker processes it has reaped (a parse pool's)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Stages:
    """Wall seconds spent in each stage, summed over the threads that ran it."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(WRITER, 0.0))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(
        self, stage: str, function: Callable, clock: Callable = time.perf_counter
    ) -> Callable:
        # Only the writer thread runs the stages timed in CPU too, so they take no lock: waiting
        # for one that a polling thread held gave up the GIL, and getting it back cost the
        # writer up to a switch interval an article, which the bench then counted as the
        # service's. The other stages run in many threads at once and add under the lock.
        writer = stage in self.cpu
        guard = contextlib.nullcontext() if writer else self.lock

        def wrapper(*args, **kwargs):
            began, cpu = clock(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                with guard:
                    self.seconds[stage] += clock() - began
                    if writer:
                        self.cpu[stage] += time.thread_time() - cpu

        return wrapper

    def reset(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.cpu = dict.fromkeys(WRITER, 0.0)


@dataclass
class Pass:
    seconds: float
    cpu: float
    peak: float
    stages: dict[str, float]
    new: int
    matches: int = 0
    alerts: int = 0
    worker_peak: float = 0.0  # the largest of the parser processes' own peaks
    writer: dict[str, float] = field(default_factory=dict)  # CPU seconds of the writer thread


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema for one run, dropped after, so runs never see each other's rows."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_service(database_url: str, urls: list[str], args: argparse.Namespace) -> list[Pass]:
    """The cold pass, then the warm pass, through the service's own cycle."""
    import monitor.detect.pipeline
    import monitor.ingest.poller
    from monitor.config import FeedConfig, HttpConfig, Settings
    from monitor.service.cycle import Service

    settings = Settings(
        database_url=database_url,
        rules_dir=ROOT / "rules",
        routes=[],  # alerts are stored; no channel to send them to here
        feeds=[FeedConfig(name=f"outlet{n}", url=u) for n, u in enumerate(urls)],
        # One host serves every feed here, so the per-host cap is lifted to the pool size.
        http=HttpConfig(
            allow_networks=["127.0.0.1"], concurrency=args.concurrency, per_host=args.concurrency
        ),
    )
    stages = Stages()
    # Parsing is counted in CPU seconds: of the polling thread when it parses, and of the
    # parser processes (added below) when it only waits for them.
    parse = (
        (monitor.ingest.poller.Poller, "_parse")
        if hasattr(monitor.ingest.poller.Poller, "_parse")
        else (monitor.ingest.poller, "parse_feed")  # before parser processes: to compare with it
    )
    patched = [
        (monitor.ingest.poller, "fetch", "fetch", time.perf_counter),
        (*parse, "parse", time.thread_time),
        (monitor.detect.pipeline, "assign_story", "stories", time.perf_counter),
        (monitor.ingest.poller.Poller, "record_all", "record", time.perf_counter),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, *_ in patched]
    for module, name, stage, clock in patched:
        setattr(module, name, stages.timed(stage, getattr(module, name), clock))
    try:
        service = Service(settings, notifiers={})
        service.poller.rng = random.Random(SEED)
        if args.parse_workers is not None and hasattr(service.poller, "parse_workers"):
            service.poller.parse_workers = args.parse_workers
        service.pipeline.ingest = stages.timed("ingest", service.pipeline.ingest)
        matcher = service.pipeline.matcher
        matcher.match = stages.timed("rules", matcher.match)
        passes = []
        for _ in ("cold", "warm"):
            stages.reset()
            workers = children_cpu_seconds()
            cpu, started = cpu_seconds(), time.perf_counter()
            report = service.cycle(force=True)
            seconds = time.perf_counter() - started
            parsers_peak = worker_peak_mb(service)
            if hasattr(service.poller, "close"):
                service.poller.close()  # parser processes reaped, so their CPU is counted
            stages.seconds["parse"] += children_cpu_seconds() - workers
            assert report.failed_feeds == 0 and not report.failed_stages, report
            passes.append(
                Pass(
                    seconds,
                    cpu_seconds() - cpu,
                    peak_mb(),
                    dict(stages.seconds),
                    report.ingest.new,
                    report.ingest.matches,
                    len(report.ingest.changed_alerts),
                    parsers_peak,
                    dict(stages.cpu),
                )
            )
        service.close()
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
    return passes


def plain_loop(urls: list[str]) -> Pass:
    """What a script with no store would do: one feed after another."""
    import feedparser
    import httpx

    cpu, started = cpu_seconds(), time.perf_counter()
    parsed = 0
    with httpx.Client() as client:
        for url in urls:
            parsed += len(feedparser.parse(client.get(url).content).entries)
    return Pass(time.perf_counter() - started, cpu_seconds() - cpu, peak_mb(), {}, parsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument(
        "--concurrency", type=int, default=50, help="requests in flight (http.concurrency)"
    )
    parser.add_argument(
        "--parse-workers",
        type=int,
        default=None,
        help="parser processes (default: one a core; 1 parses in the polling threads)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.1, help="seconds each response waits (default 0.1)"
    )
    parser.add_argument(
        "--no-loop", action="store_true", help="skip the plain sequential loop (no ratio)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.items, args.latency)
        return

    logging.basicConfig(level=logging.WARNING)
    command = [sys.executable, __file__, "--serve", "--feeds", str(args.feeds)]
    command += ["--items", str(args.items), "--latency", str(args.latency)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    results: dict[str, list[Pass]] = {}
    try:
        port = int(child.stdout.readline())
        base = f"http://127.0.0.1:{port}/feed/"
        urls = [f"{base}{n}" for n in range(args.feeds)]
        total = args.feeds * args.items
        print(
            f"{args.feeds} feeds x {args.items} items on 127.0.0.1:{port}, "
            f"{args.latency * 1000:.0f} ms a response, {args.concurrency} connections, "
            f"{os.cpu_count()} cores, seed {SEED}",
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
            results["sqlite"] = run_service(f"sqlite:///{tmp}/bench.db", urls, args)
        pg = os.environ.get("MONITOR_TEST_POSTGRES_URL")
        if pg:
            with postgres_schema(pg) as url:
                results["postgresql"] = run_service(url, urls, args)
        loop = None if args.no_loop else plain_loop(urls)
    finally:
        child.kill()
        child.wait()
    for store, (cold, warm) in results.items():
        assert cold.new == total, (store, cold.new, total)
        assert warm.new == 0, (store, warm.new)
    if loop is not None:
        assert loop.new == total

    print(
        f"\n| store | pass | wall s | items/s | CPU ms/item | ingest ms/item | "
        f"writer CPU ms/item (stories, rules) | "
        f"{' | '.join(f'{s} s' for s in STAGES)} | peak RSS MB | vs plain loop |"
    )
    print("| --- " * (9 + len(STAGES)) + "|")
    for store, passes in results.items():
        for name, p in zip(("cold", "warm"), passes, strict=True):
            ratio = f"{loop.seconds / p.seconds:.1f}x" if loop else "—"
            ingest, stories, rules = (p.writer.get(s, 0.0) / total * 1000 for s in WRITER)
            writer = f"{ingest:.2f} ({stories:.2f}, {rules:.2f})"
            print(
                f"| {store} | {name} | {p.seconds:.1f} | {total / p.seconds:,.0f} | "
                f"{p.cpu / total * 1000:.2f} | {p.stages['ingest'] / total * 1000:.2f} | "
                f"{writer} | "
                + " | ".join(f"{p.stages[s]:.1f}" for s in STAGES)
                + f" | {p.peak:.0f} | {ratio} |"
            )
    if loop is not None:
        print(
            f"| — | plain loop | {loop.seconds:.1f} | {total / loop.seconds:,.0f} | "
            f"{loop.cpu / total * 1000:.2f} | — | — | "
            + " | ".join("—" for _ in STAGES)
            + f" | {loop.peak:.0f} | 1x |"
        )
    for store, (cold, _) in results.items():
        print(f"{store}: cold pass {cold.matches} match(es), {cold.alerts} alert(s)")
        print(f"{store}: peak RSS of a parser process {cold.worker_peak:.0f} MB")
    print(
        "CPU ms/item of the warm pass is over the cold pass's items. Stage seconds: fetch is "
        "wall time summed over the polling threads (so it overlaps); parse is CPU time, in the "
        "polling threads or the parser processes (with preparing the words for the writer); "
        "ingest (of which stories and rules) is wall time in the writer; record is wall time "
        "in the writer recording the polls that stored nothing; writer CPU is the "
        "writer thread's CPU time in ingest (of which stories, rules)."
    )


if __name__ == "__main__":
    main()
