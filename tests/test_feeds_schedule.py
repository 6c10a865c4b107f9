"""When feeds are polled next, on their own: interval, jitter, backoff, Retry-After, rhythm; and
the per-host limit. (tests/test_feeds_http.py and test_feeds_health.py show them in cycles.)"""

from __future__ import annotations

import random
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

from monitor.config import FeedConfig, HttpConfig, Settings
from monitor.ingest import schedule
from monitor.ingest.hosts import HostLimits
from monitor.models import Article
from monitor.store.tables import FeedState

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(feeds=[], routes=[], poll_interval=900, http=HttpConfig(jitter=0.1))
FEED = FeedConfig(name="wire", url="https://wire.example/feed")


def article(n: int, published: datetime | None = None) -> Article:
    return Article(title=f"t{n}", text="x", source="wire", url="", published=published)


def test_due_feeds_are_the_never_polled_and_those_whose_time_has_come():
    later = FeedConfig(name="later", url="https://later.example/feed")
    states = {
        "wire": FeedState(name="wire", next_poll=NOW - timedelta(seconds=1)),
        "later": FeedState(name="later", next_poll=NOW + timedelta(minutes=5)),
    }
    fresh = FeedConfig(name="fresh", url="https://fresh.example/feed")
    assert [f.name for f in schedule.due([FEED, later, fresh], states, NOW)] == ["wire", "fresh"]
    assert len(schedule.due([FEED, later, fresh], states, NOW, force=True)) == 3


def test_a_learnt_interval_never_exceeds_the_feeds_own():
    own = FeedConfig(name="own", url="https://own.example/feed", interval=600)
    assert schedule.interval(FEED, None, SETTINGS) == timedelta(seconds=900)
    assert schedule.interval(own, None, SETTINGS) == timedelta(seconds=600)
    assert schedule.interval(own, FeedState(name="own", interval=300), SETTINGS).seconds == 300
    assert schedule.interval(own, FeedState(name="own", interval=5000), SETTINGS).seconds == 600


def test_a_failure_backs_off_and_retry_after_can_lengthen_it_up_to_a_day():
    state = FeedState(name="wire", consecutive_failures=2)
    schedule.after_failure(state, FEED, None, NOW, SETTINGS)
    assert state.next_poll == NOW + timedelta(seconds=900 * 4)
    schedule.after_failure(state, FEED, 60.0, NOW, SETTINGS)  # shorter than the backoff
    assert state.next_poll == NOW + timedelta(seconds=900 * 4)
    schedule.after_failure(state, FEED, 7200.0, NOW, SETTINGS)
    assert state.next_poll == NOW + timedelta(hours=2)
    schedule.after_failure(state, FEED, 10.0**9, NOW, SETTINGS)  # a hostile server
    assert state.next_poll == NOW + schedule.MAX_RETRY_AFTER


def test_the_next_poll_is_jittered_within_its_share():
    rng = random.Random(3)
    for _ in range(200):
        state = FeedState(name="wire")
        schedule.after_success(state, FEED, [], 0, False, NOW, SETTINGS, rng)
        assert NOW + timedelta(seconds=810) <= state.next_poll <= NOW + timedelta(seconds=990)


def test_all_new_entries_halve_the_interval_except_at_the_first_poll():
    rng = random.Random(1)
    quiet = Settings(feeds=[], routes=[], poll_interval=900, http=HttpConfig(jitter=0))
    articles = [article(n) for n in range(3)]
    state = FeedState(name="wire")
    schedule.after_success(state, FEED, articles, 3, True, NOW, quiet, rng)
    assert state.interval is None and state.overflows == 0
    schedule.after_success(state, FEED, articles, 3, False, NOW, quiet, rng)
    assert state.interval == 450 and state.overflows == 1
    assert state.next_poll == NOW + timedelta(seconds=450)
    schedule.after_success(state, FEED, articles, 1, False, NOW, quiet, rng)  # calm: grows back
    assert state.interval == 563


def test_the_rhythm_is_the_usual_gap_between_dated_items():
    state = FeedState(name="wire")
    dated = [article(n, NOW - timedelta(hours=n)) for n in range(4)]
    schedule.learn_rhythm(state, dated, NOW)
    assert state.rhythm == 3600 and state.last_new == NOW
    schedule.learn_rhythm(state, [article(9)], NOW + timedelta(hours=2))  # undated: the gap
    assert state.rhythm == 0.7 * 3600 + 0.3 * 7200


def test_one_host_gets_at_most_per_host_requests_at_once():
    hosts = HostLimits(per_host=2)
    held = hosts.slot("https://Wire.example/a")
    assert held is hosts.slot("https://wire.example:443/b")  # one host, whatever the case
    assert held.acquire(blocking=False) and held.acquire(blocking=False)
    assert not hosts.slot("https://wire.example/c").acquire(blocking=False)
    other = hosts.slot("https://other.example/")
    assert other.acquire(blocking=False)  # another host is not held up
    assert isinstance(hosts.slot("/srv/feeds/local.xml"), nullcontext)  # a file never waits
