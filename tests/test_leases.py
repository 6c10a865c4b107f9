"""Leases on a real store: SQLite here, PostgreSQL too where MONITOR_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.store import Store
from monitor.store.claims import release_owners
from monitor.store.feeds import claim_feeds, ensure_feed_rows, release_feeds
from monitor.store.notifications import claim_notifications, still_mine
from monitor.store.tables import FeedState, NotificationRow, utcnow

LEASE = timedelta(minutes=5)
NAMES = [f"feed-{n:02d}" for n in range(20)]


def test_a_feed_is_claimed_by_one_replica_until_its_lease_ends(store):
    ensure_feed_rows(store, [(n, f"https://example.org/{n}") for n in NAMES])
    ensure_feed_rows(store, [(n, "again") for n in NAMES])  # a second call adds nothing
    now = utcnow()
    first = claim_feeds(store, NAMES, "a", now, LEASE)
    assert first.names == NAMES and first.taken_over == 0
    assert claim_feeds(store, NAMES, "b", now, LEASE).names == []
    # Its own claim is renewed; after expiry another replica takes it over, and says so.
    assert claim_feeds(store, NAMES[:2], "a", now, LEASE).names == NAMES[:2]
    later = claim_feeds(store, NAMES, "b", now + LEASE + timedelta(seconds=1), LEASE)
    assert later.names == NAMES and later.taken_over == len(NAMES)
    with store.session() as session:
        rows = session.exec(select(FeedState)).all()
    assert len(rows) == len(NAMES) and {r.lease_owner for r in rows} == {"b"}


def test_a_feed_not_due_is_not_claimed_unless_forced(store):
    ensure_feed_rows(store, [("x", "https://example.org/x")])
    now = utcnow()
    with store.session() as session:
        row = session.exec(select(FeedState).where(FeedState.name == "x")).one()
        row.next_poll = now + timedelta(minutes=10)
        session.add(row)
        session.commit()
    assert claim_feeds(store, ["x"], "a", now, LEASE).names == []
    assert claim_feeds(store, ["x"], "a", now, LEASE, force=True).names == ["x"]
    release_feeds(store, ["x"], "someone-else")  # only the holder can give it back
    assert claim_feeds(store, ["x"], "b", now, LEASE, force=True).names == []
    release_feeds(store, ["x"], "a")
    assert claim_feeds(store, ["x"], "b", now, LEASE, force=True).names == ["x"]


def test_concurrent_claims_split_the_feeds_with_none_claimed_twice(store):
    ensure_feed_rows(store, [(n, n) for n in NAMES])
    now = utcnow()
    results: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def claim(owner: str) -> None:
        barrier.wait()
        results[owner] = claim_feeds(store, NAMES, owner, now, LEASE).names

    threads = [threading.Thread(target=claim, args=(f"r{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [name for names in results.values() for name in names]
    assert sorted(claimed) == NAMES  # every feed once, whoever got it


def _outbox(store: Store, rows: list[tuple[str, str]]) -> None:
    with store.session() as session:
        for key, story in rows:
            session.add(NotificationRow(key=key, story_id=story, channel="c", alerts={}))
        session.commit()


def test_a_follow_up_waits_while_another_replica_holds_the_message_it_follows(store):
    _outbox(store, [("s1:new", "s1"), ("s1:update", "s1"), ("s2:new", "s2")])
    now = utcnow()
    first = claim_notifications(store, "a", now, LEASE, limit=1)
    assert first.names == ["s1:new"]
    # b may not send s1's follow-up before a has sent s1's first message.
    assert claim_notifications(store, "b", now, LEASE).names == ["s2:new"]
    with store.session() as session:
        row = session.exec(select(NotificationRow).where(NotificationRow.key == "s1:new")).one()
        assert still_mine(session, row, "a", now + LEASE)
        assert not still_mine(session, row, "b", now + LEASE)
        row.state, row.lease_owner, row.lease_until = "sent", "", None
        session.add(row)
        session.commit()
    # Now it may (and it renews its hold on s2's message, which it has not sent yet).
    assert claim_notifications(store, "b", now, LEASE).names == ["s1:update", "s2:new"]


def test_the_leases_of_a_dead_replica_are_freed_at_once(store):
    ensure_feed_rows(store, [("x", "x")])
    _outbox(store, [("k", "s")])
    now = utcnow()
    assert claim_feeds(store, ["x"], "dead", now, LEASE).names == ["x"]
    assert claim_notifications(store, "dead", now, LEASE).names == ["k"]
    assert release_owners(store, ["dead"]) == 2
    assert claim_feeds(store, ["x"], "alive", now, LEASE).names == ["x"]
    assert claim_notifications(store, "alive", now, LEASE).names == ["k"]


def test_a_source_arriving_while_another_replica_sends_is_not_lost(store):
    """Replica a has claimed the story's first message and is sending it; replica b meanwhile
    stores the second report. b must not fold the new source into the row a is sending (a
    sends what it read), so the new source goes out in a message of its own."""
    from monitor.alerting.notify import enqueue
    from monitor.config import RouteConfig
    from monitor.delivery.outbox import Sender, deliver
    from monitor.detect.pipeline import Pipeline
    from monitor.detect.rules import Matcher
    from monitor.detect.rules.parse import valid_rules
    from monitor.service.replay import read_articles
    from tests.conftest import RULES, SEED_FILES

    first, second = (read_articles(path)[0] for path in SEED_FILES)
    pipeline = Pipeline(store, Matcher(valid_rules(RULES)))
    routes = [RouteConfig(channels=["c"], group_interval=0)]

    def queue(article) -> None:
        changed = pipeline.ingest([article]).changed_alerts
        with store.session() as session:
            enqueue(session, changed, routes)
            session.commit()

    queue(first)
    assert claim_notifications(store, "a", utcnow(), LEASE).names  # a is sending it now
    queue(second)  # b's work, while a's send is in flight

    class Channel:
        def __init__(self) -> None:
            self.sources: list[tuple[str, str]] = []

        def send(self, message) -> None:
            for alert in message.alerts:
                self.sources += [(alert.rule, c.id) for c in message.fresh(alert)]

    channel = Channel()
    deliver(store, {"c": channel}, sender=Sender(owner="a"))
    deliver(store, {"c": channel}, sender=Sender(owner="b"))
    rules = sorted(rule for rule, _ in channel.sources)
    assert rules == ["dprk-oil-transfer", "dprk-overseas-labor", "dprk-overseas-labor"], (
        channel.sources
    )
    assert len(set(channel.sources)) == 3


def _ingest_at_the_barrier(url: str, path: str, barrier) -> None:
    from monitor.detect.pipeline import Pipeline
    from monitor.detect.rules import Matcher
    from monitor.detect.rules.parse import valid_rules
    from monitor.service.replay import read_articles
    from tests.conftest import RULES

    store = Store(url)
    pipeline = Pipeline(store, Matcher(valid_rules(RULES)))
    articles = read_articles(Path(path))
    barrier.wait()
    pipeline.ingest(articles)
    store.close()


@pytest.mark.parametrize("attempt", range(4))
def test_two_processes_storing_one_story_at_once_make_one_story(store, attempt):
    """Each process stores one of the seed reports at the same instant; without turns taken
    both would find no story yet and start one each."""
    import multiprocessing

    from monitor.store.tables import AlertRow, StoryRow
    from tests.conftest import SEED_FILES

    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_ingest_at_the_barrier, args=(store.url, str(p), barrier))
        for p in SEED_FILES
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    with store.session() as session:
        assert len(session.exec(select(StoryRow)).all()) == 1
        alerts = session.exec(select(AlertRow)).all()
    assert sorted((a.rule_id, a.revision) for a in alerts) == [
        ("dprk-oil-transfer", 1),
        ("dprk-overseas-labor", 2),
    ]
