"""Parsing in worker processes, so the polling threads and the store do not queue for one GIL.

Parsing is the poller's main cost, and feedparser holds the GIL for all of it: in one process,
eight fetching threads parse one document at a time while the store waits for its turn too.
So a poll of many feeds parses in worker processes, one a core, each thread handing its
document over and waiting for the articles; the outcomes still stream to the single writer.
A few feeds (a quiet cycle, a test) are parsed in the thread, which costs no process start.

Right after parsing, the same process works out what the writer needs of each article's words
and nothing else (:mod:`monitor.detect.prepared`: its content hash, what the event matcher
reads of it, the rules it matches), so that this work, too, runs beside the single writer
rather than in it. The rule set reaches the workers when they start (:meth:`use_rules`); a
reload of the rules retires the running workers, and the next poll starts new ones with it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool

from monitor.detect.prepared import prepare_all
from monitor.detect.rules import Matcher
from monitor.ingest.parse import FeedParseError, ParsedFeed, parse_feed

# Logged under the poller's name, as before the poller was split: operators filter on it.
log = logging.getLogger("monitor.ingest.poller")
# Feeds in one poll from which parsing moves to worker processes: a worker's start (~0.3 s of
# imports) is repaid by a few dozen documents parsed beside the writer instead of under its GIL.
PARSE_POOL_MIN = 16
# How far a parser process lowers its priority (nice), so the writer is not kept waiting.
PARSER_NICENESS = 10

ParseArgs = tuple[bytes, str, dict[str, str], str, str]  # body, url, headers, feed, source
RulesBlob = tuple[str, bytes]  # a rule set's token and its pickled rules

_rules: Matcher | None = None  # in a worker process: the rule set it started with
_read_all = False  # in a worker process: read every article for the event matcher


def load_rules(blob: RulesBlob | None, read_all: bool = False) -> None:
    """A worker's start: compile the rule set it was given. Never raises (a worker that
    cannot start breaks the pool): without rules, the writer matches the articles itself.
    ``read_all``: every article joins a story (``story_scope: all``), so every one is read
    for the event matcher, not only those that match a rule."""
    global _rules, _read_all
    _rules = None
    _read_all = read_all
    if blob is None:
        return
    try:
        matcher = Matcher(pickle.loads(blob[1]))
        matcher.token = blob[0]  # the writer's name for this rule set
        _rules = matcher
    except Exception:  # noqa: BLE001 - the writer matches instead; say so once
        log.warning("a parser process could not load the rules; the writer matches instead")


def start_worker(blob: RulesBlob | None, read_all: bool = False) -> None:
    """A worker process's start: step back in the CPU queue, then load the rules.

    Parsing is throughput work that can wait its turn; the single writer, and the database
    server it waits on, are what a cold poll's wall time hangs on. On two busy cores, the
    workers at :data:`PARSER_NICENESS` took the bench's cold pass from 9.7 to 8.9 s
    on PostgreSQL and 6.8 to 6.4 s on SQLite (bench/poll.py, 300 feeds, alternating runs)."""
    if hasattr(os, "nice"):  # raising one's own niceness needs no privilege
        try:
            os.nice(PARSER_NICENESS)
        except OSError:
            log.debug("a parser process could not lower its priority; it parses as it is")
    load_rules(blob, read_all)


def parse_and_prepare(parse: Callable[..., ParsedFeed], *args: object) -> ParsedFeed:
    """Parse a document and prepare its articles for the writer (matched by the rules this
    process started with, if any); module-level, so that a worker process can run it."""
    parsed = parse(*args)
    prepare_all(parsed.articles, _rules, _read_all)
    return parsed


class ParserPool:
    """Worker processes started on first use; after one dies or hangs, parsing stays in the
    threads for the rest of this pool's life (the poll that met it fails and is retried)."""

    def __init__(
        self,
        workers: int | None = None,
        parse: Callable[..., ParsedFeed] = parse_feed,
        read_all: bool = False,
    ) -> None:
        self.workers = workers or os.cpu_count() or 1  # 1 parses in the calling thread
        self.parse_one = parse  # module-level, so a worker process can import it
        self.read_all = read_all  # see load_rules
        self._pool: ProcessPoolExecutor | None = None
        self._rules: RulesBlob | None = None
        self._lock = threading.Lock()

    def use_rules(self, matcher: Matcher | None) -> None:
        """Match articles with ``matcher``'s rules in the workers started from now on; the
        running ones finish what they hold (the writer matches those again) and stop."""
        blob = None
        if matcher is not None:
            try:
                blob = (matcher.token, pickle.dumps(matcher.rules))
            except Exception:  # noqa: BLE001 - nothing lost: the writer matches instead
                log.warning("the rules cannot be sent to parser processes; the writer matches")
        with self._lock:
            self._rules = blob
            retired, self._pool = self._pool, None
        if retired is not None:
            retired.shutdown(wait=False)

    def worth_it(self, feeds: int) -> bool:
        """Whether a poll of ``feeds`` feeds should parse in worker processes."""
        return self.workers > 1 and feeds >= PARSE_POOL_MIN

    def parse(self, args: ParseArgs, timeout: float, pooled: bool = True) -> ParsedFeed:
        """Parse in a worker process, waiting at most ``timeout`` seconds (bounded like a
        fetch: a worker stuck on one document must not hold the poll, and with it the cycle,
        for ever); in this thread if not ``pooled`` or no worker may be used."""
        if not pooled or self.workers <= 1:
            return parse_and_prepare(self.parse_one, *args)
        pool = self._started()
        try:
            return pool.submit(parse_and_prepare, self.parse_one, *args).result(timeout=timeout)
        except (BrokenProcessPool, FuturesTimeout) as exc:
            # A worker died (killed, out of memory, a document that crashes the parser, or a
            # host program that cannot start one: a script without a __main__ guard) or hung.
            with self._lock:
                first = self.workers > 1
                self.workers = 1
                if self._pool is pool:
                    self._pool = None
            _stop_pool(pool)
            if first:
                log.warning("a parser process ended unexpectedly; parsing in threads from now on")
            why = "took too long" if isinstance(exc, FuturesTimeout) else "ended"
            raise FeedParseError(f"the parser process {why} while parsing this document") from None

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: this process runs threads, which a fork would copy mid-step.
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=start_worker,
                    initargs=(self._rules, self.read_all),
                )
            return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool that cannot be trusted, its stuck workers included (shutdown alone waits
    for nothing, but leaves a hung worker running)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
