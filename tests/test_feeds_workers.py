"""The parser pool with real worker processes: a worker that dies or hangs fails its own poll,
is stopped, and parsing goes on in the threads."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time

import pytest

from monitor.detect.prepared import matches_of, reading_of, terms_of
from monitor.detect.rules import Matcher
from monitor.ingest.parse import FeedParseError, ParsedFeed, parse_feed
from monitor.ingest.workers import PARSE_POOL_MIN, PARSER_NICENESS, ParserPool
from monitor.service.cycle import compile_rules
from tests.conftest import RULES

RSS = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title><item>"
    b"<title>Tanker seen off Nampo</title><link>https://wire.example/1</link>"
    b"<description>A ship-to-ship transfer at night.</description></item></channel></rss>"
)
ARGS = (RSS, "https://wire.example/feed", {"Content-Type": "text/xml"}, "wire", "")
LABOUR = RSS.replace(
    b"A ship-to-ship transfer at night.",
    b"North Korean workers were issued new work permits in Russia, officials said.",
)
HANG = threading.Event()  # never set: a worker waiting on it waits until it is stopped


# Run in the worker processes, so defined at module level (a spawned worker imports them).
def parse_then_die(body, url, headers, feed, source) -> ParsedFeed:
    if multiprocessing.parent_process() is not None:  # in a worker
        os._exit(3)  # as the kernel's OOM killer would end it: no exception, no cleanup
    return parse_feed(body, url, headers, feed, source)


def parse_then_hang(body, url, headers, feed, source) -> ParsedFeed:
    if multiprocessing.parent_process() is not None:  # in a worker
        HANG.wait()
    return parse_feed(body, url, headers, feed, source)


def parse_and_tell_niceness(body, url, headers, feed, source) -> ParsedFeed:
    parsed = parse_feed(body, url, headers, feed, source)
    parsed.articles[0].title = str(os.nice(0))
    return parsed


def test_parser_processes_give_way_to_the_writer():
    """The workers run at a lower priority than the process that writes (higher nice)."""
    pool = ParserPool(workers=2, parse=parse_and_tell_niceness)
    try:
        parsed = pool.parse(ARGS, timeout=60)
    finally:
        pool.close()
    assert int(parsed.articles[0].title) == min(19, os.nice(0) + PARSER_NICENESS)


def test_a_worker_parses_a_large_poll_and_a_small_one_stays_in_the_thread():
    pool = ParserPool(workers=2)
    try:
        assert pool.worth_it(PARSE_POOL_MIN) and not pool.worth_it(PARSE_POOL_MIN - 1)
        parsed = pool.parse(ARGS, timeout=60)
        assert [a.title for a in parsed.articles] == ["Tanker seen off Nampo"]
        assert pool._pool is not None  # a worker process did it
        # ... and prepared the article's words for the writer, beside it: without rules
        # (so not known to match) its content words, all an article in no story needs.
        assert reading_of(parsed.articles[0]) is None
        assert "nampo" in (terms_of(parsed.articles[0]) or [])
    finally:
        pool.close()
    assert pool._pool is None
    everything = ParserPool(workers=2, read_all=True)  # story_scope: all
    try:
        reading = reading_of(everything.parse(ARGS, timeout=60).articles[0])
        assert reading is not None and "nampo" in reading.counts
    finally:
        everything.close()
    assert not ParserPool(workers=1).worth_it(1000)


def test_workers_match_with_the_rules_they_started_with_and_a_reload_retires_them():
    matcher = compile_rules(RULES)
    pool = ParserPool(workers=2)
    try:
        pool.use_rules(matcher)
        labour = (LABOUR, *ARGS[1:])
        first = pool.parse(labour, timeout=60).articles[0]
        assert [m.rule.id for m in matches_of(first, matcher)[0]] == ["dprk-overseas-labor"]
        started = pool._pool
        reloaded = Matcher(matcher.rules)
        pool.use_rules(reloaded)  # the rule files changed: the running workers are retired
        assert pool._pool is None
        second = pool.parse(labour, timeout=60).articles[0]
        assert pool._pool is not started
        assert matches_of(second, matcher) is None  # made with the new rules, not these
        assert [m.rule.id for m in matches_of(second, reloaded)[0]] == ["dprk-overseas-labor"]
        # In the thread (a small poll) nothing is matched beforehand: the writer does it.
        in_thread = pool.parse(labour, timeout=60, pooled=False).articles[0]
        assert matches_of(in_thread, reloaded) is None
    finally:
        pool.close()


def test_a_worker_that_cannot_load_the_rules_still_parses_and_leaves_matching_to_the_writer():
    pool = ParserPool(workers=2)
    pool._rules = ("broken", b"not a pickle")  # as if the rules could not be read back
    try:
        parsed = pool.parse(ARGS, timeout=60)
        assert terms_of(parsed.articles[0]) is not None  # the rest was prepared
        assert parsed.articles[0].prepared.found is None
    finally:
        pool.close()


def test_a_worker_that_dies_fails_its_document_and_parsing_moves_to_the_threads(caplog):
    pool = ParserPool(workers=2, parse=parse_then_die)
    with caplog.at_level(logging.WARNING, logger="monitor.ingest.poller"):
        with pytest.raises(FeedParseError, match="the parser process ended"):
            pool.parse(ARGS, timeout=60)
        assert pool.workers == 1 and pool._pool is None
        parsed = pool.parse(ARGS, timeout=60)  # in this process now: parse_then_die parses
    assert parsed.title == "Wire"
    assert caplog.text.count("parsing in threads from now on") == 1


def test_a_worker_that_hangs_is_stopped_after_the_deadline():
    others = set(multiprocessing.active_children())  # other tests' pools: not this one's
    pool = ParserPool(workers=2, parse=parse_then_hang)
    pool.parse(ARGS, timeout=60, pooled=False)  # in the thread: nothing waits
    started = time.monotonic()
    with pytest.raises(FeedParseError, match="the parser process took too long"):
        pool.parse(ARGS, timeout=1.0)
    assert time.monotonic() - started < 30
    assert pool.workers == 1 and pool._pool is None
    for process in set(multiprocessing.active_children()) - others:
        # On a loaded machine join() was seen to return at once with the terminated worker
        # still alive, so wait on the process itself, for at most ten seconds.
        deadline = time.monotonic() + 10
        while process.is_alive() and time.monotonic() < deadline:
            process.join(timeout=0.1)
        assert not process.is_alive()  # terminated, not left running beside the daemon
