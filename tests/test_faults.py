"""Nothing one feed, article, stage or replica does stops the cycle for the rest.

Each test here reproduces a defect found in review (issue #11) and failed on the code before
its fix: a backoff that overflowed after weeks of one dead feed, a stage error that skipped
delivery, a story index left with a rolled-back article, one poisoned entry blocking its feed,
leases neither renewed nor fenced, live replicas declared dead, credentials in headlines.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import select

from monitor.cli import cli
from monitor.config import FeedConfig, ReplicaConfig
from monitor.detect.pipeline import Pipeline
from monitor.ingest.health import open_alert
from monitor.ingest.poller import Poller
from monitor.ingest.schedule import MAX_BACKOFF, backoff
from monitor.models import Article
from monitor.service import replicas
from monitor.service.replay import read_articles
from monitor.store import Store
from monitor.store.failures import QUARANTINE_AFTER
from monitor.store.feeds import claim_feeds, ensure_feed_rows
from monitor.store.tables import (
    AlertRow,
    ArticleFailureRow,
    ArticleRow,
    FeedState,
    ReplicaRow,
    StoryRow,
    utcnow,
)
from tests.conftest import SEED_FILES, ConsoleCapture, make_settings
from tests.daemons import write_config
from tests.httpserver import LocalServer, Reply, Request
from tests.poison import POISON, PoisonMatcher

SEED_FEEDS = {"daily-ledger": "/feeds/daily-ledger.rss", "global-wire": "/feeds/global-wire.atom"}


def rss(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><guid>{guid}</guid>"
        f"<link>https://wire.example/{guid}</link>"
        f"<description>{title}: grain prices moved in {guid}.</description></item>"
        for guid, title in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Grain Wire</title>'
        f"<link>https://wire.example/</link>{body}</channel></rss>"
    ).encode()


def seed_feeds(server: LocalServer) -> list[FeedConfig]:
    return [FeedConfig(name=n, url=server.url(p)) for n, p in SEED_FEEDS.items()]


def alert_blocks(console: str) -> list[str]:
    return [b for b in console.split("\n\n") if b.startswith(("ALERT", "UPDATE"))]


# -- 1. backoff overflow --------------------------------------------------------------------


def test_backoff_is_capped_for_any_number_of_failures():
    interval = timedelta(minutes=15)
    assert backoff(interval, 1) == timedelta(minutes=30)
    for failures in (36, 37, 40, 1_000, 10**9):
        assert backoff(interval, failures) == MAX_BACKOFF


def test_a_feed_dead_for_weeks_does_not_stop_delivery(seed_server, db_url):
    dead = FeedConfig(name="dead", url=seed_server.url("/gone.rss"))
    capture = ConsoleCapture(make_settings(db_url, [dead, *seed_feeds(seed_server)]))
    service = capture.service()
    ensure_feed_rows(service.store, [(dead.name, dead.location)])
    with service.store.session() as session:  # a week of failures already behind it
        session.execute(update(FeedState).values(consecutive_failures=40))
        session.commit()

    report = service.cycle(force=True)

    assert report.failed_feeds == 1
    assert len(alert_blocks(capture.take())) == 2  # the healthy feeds' alerts went out
    with service.store.session() as session:
        state = session.exec(select(FeedState).where(FeedState.name == "dead")).one()
        assert state.consecutive_failures == 41
        assert state.next_poll - state.last_polled == MAX_BACKOFF
    service.close()


def test_a_stage_that_raises_does_not_hold_back_delivery(seed_server, db_url, caplog):
    capture = ConsoleCapture(make_settings(db_url, seed_feeds(seed_server)))
    service = capture.service()

    def broken(*_args, **_kwargs):
        raise RuntimeError("health check bug")

    service.poller.check_health = broken  # type: ignore[method-assign]
    report = service.cycle(force=True)

    assert len(alert_blocks(capture.take())) == 2
    assert report.delivery is not None and report.delivery.sent == 1
    assert service.metrics.stage_failures.labels("health")._value.get() == 1
    assert "cycle stage 'health' failed" in caplog.text
    service.close()


# -- 6. the story index changes only after a commit -----------------------------------------


def test_a_rolled_back_article_leaves_no_trace_in_the_story_index(db_url):
    store = Store(db_url)
    pipeline = Pipeline(store, PoisonMatcher())
    poisoned = Article(
        title="Harvest festival",
        text=f"The village harvest festival drew crowds on Sunday. {POISON}",
        source="Local Paper",
        external_id="p1",
        feed="local",
    )
    result = pipeline.ingest([poisoned])
    assert result.failed == 1 and result.new == 0
    assert len(pipeline.stories) == 0

    # The next insert reuses the rolled-back row id; it must be indexed as itself.
    first, second = (read_articles(path)[0] for path in SEED_FILES)
    pipeline.ingest([first])
    pipeline.ingest([second])
    with store.session() as session:
        stories = {row.story_id for row in session.exec(select(ArticleRow)).all()}
    assert len(stories) == 1, "the two seed reports must share one story"
    store.close()


# -- 7. one failing article does not block its feed -----------------------------------------


def test_a_poisoned_entry_fails_alone_and_is_quarantined(db_url, tmp_path):
    items = [("g1", "Wheat report"), ("g2", f"Barley report {POISON}"), ("g3", "Rye report")]
    with LocalServer() as server:
        server.handlers["/feed"] = lambda _r: Reply(
            200, rss(items), {"Content-Type": "application/rss+xml", "ETag": '"v1"'}
        )
        feed = FeedConfig(name="grain", url=server.url("/feed"))
        settings = make_settings(db_url, [feed])
        capture = ConsoleCapture(settings)
        service = capture.service()
        service.pipeline.matcher = PoisonMatcher()

        first = service.cycle(force=True)
        assert first.failed_feeds == 0
        assert first.ingest.new == 2 and first.ingest.failed == 1
        with service.store.session() as session:  # the feed works; its problem is said
            problem = session.exec(select(FeedState.last_error)).one()
            assert "1 entry/entries could not be stored: Barley report" in problem
        # The failed entry is retried: the same bytes are fetched and parsed again.
        for _attempt in range(2, QUARANTINE_AFTER + 1):
            again = service.cycle(force=True)
            assert again.ingest.new == 0
            assert server.requests[-1].headers.get("If-None-Match") is None
        assert again.ingest.quarantined == 1 and again.ingest.failed == 0
        # Quarantined: the feed's validators are kept again, and the entry is not retried.
        later = service.cycle(force=True)
        assert later.ingest.failed == 0
        assert server.requests[-1].headers.get("If-None-Match") == '"v1"'

        with service.store.session() as session:
            failure = session.exec(select(ArticleFailureRow)).one()
            assert (failure.attempts, failure.quarantined) == (QUARANTINE_AFTER, True)
            assert "cannot match this entry" in failure.error
            state = session.exec(select(FeedState)).one()
            assert state.consecutive_failures == 0
        assert service.metrics.article_failures.labels("grain")._value.get() == QUARANTINE_AFTER
        assert service.metrics.quarantined._value.get() == 1
        service.close()

        config = write_config(
            tmp_path / "monitor.yaml", [{"name": "grain", "url": feed.url}], database_url=db_url
        )
        runner = CliRunner()
        listing = runner.invoke(cli, ["--config", str(config), "feeds", "list"])
        assert "entry quarantined: Barley report" in listing.output, listing.output
        status = runner.invoke(cli, ["--config", str(config), "status"])
        assert "1 entry/entries quarantined" in status.output, status.output

        # Released by an operator, the entry is tried again at the next poll.
        retried = runner.invoke(cli, ["--config", str(config), "feeds", "retry", "grain"])
        assert "1 failed entry" in retried.output, retried.output
        service = capture.service()
        service.pipeline.matcher = PoisonMatcher()
        assert service.cycle().ingest.failed == 1
        service.close()


# -- 5. feed leases: renewed while polling, fenced when recorded ----------------------------


def test_a_poll_slower_than_its_lease_keeps_the_feed(db_url):
    release = threading.Event()
    with LocalServer() as server:

        def slow(_request: Request) -> Reply:
            release.wait(10)
            return Reply(200, rss([("g1", "Oat report")]), {"Content-Type": "application/rss+xml"})

        server.handlers["/feed"] = slow
        feed = FeedConfig(name="slow", url=server.url("/feed"))
        settings = make_settings(db_url, [feed], replica=ReplicaConfig(lease=0.6))
        capture = ConsoleCapture(settings)
        service = capture.service()
        cycle = threading.Thread(target=service.cycle, kwargs={"force": True})
        cycle.start()
        try:
            # Three leases' time: without renewal the feed would be free for the taking.
            deadline = threading.Event()
            deadline.wait(1.8)
            taken = claim_feeds(
                service.store, ["slow"], "other", utcnow(), timedelta(seconds=60), force=True
            )
            assert taken.names == []
        finally:
            release.set()
            cycle.join(20)
        with service.store.session() as session:
            state = session.exec(select(FeedState)).one()
            assert state.last_success is not None and state.lease_owner == ""
        assert service.metrics.leases_lost.labels("feed")._value.get() == 0
        service.close()


def test_a_late_record_of_a_feed_taken_over_is_dropped(db_url, caplog):
    with LocalServer() as server:
        server.handlers["/feed"] = lambda _r: Reply(404, b"gone")
        feed = FeedConfig(name="wire", url=server.url("/feed"))
        settings = make_settings(db_url, [feed])
        store = Store(db_url)
        poller = Poller(settings, store, client=None, rng=random.Random(1))  # type: ignore[arg-type]
        from monitor.service.metrics import Metrics

        poller.metrics = Metrics()
        ensure_feed_rows(store, [("wire", feed.location)])
        now = utcnow()
        claim_feeds(store, ["wire"], "replica-a", now, timedelta(seconds=60))
        # A stalls past its lease; B takes the feed over.
        with store.session() as session:
            session.execute(update(FeedState).values(lease_until=now - timedelta(seconds=1)))
            session.commit()
        assert claim_feeds(store, ["wire"], "replica-b", now, timedelta(seconds=60)).names
        from monitor.ingest.outcome import PollOutcome

        kept = poller.record(PollOutcome(feed=feed, error="HTTP 404"), 0, owner="replica-a")

        assert kept is False
        with store.session() as session:
            state = session.exec(select(FeedState)).one()
            assert state.lease_owner == "replica-b" and state.consecutive_failures == 0
        assert poller.metrics.leases_lost.labels("feed")._value.get() == 1
        assert "another replica took the feed over" in caplog.text
        store.close()


# -- 8. a life is declared dead only on proof -----------------------------------------------


def _life(instance: str, host: str = "", pid: int = 0) -> ReplicaRow:
    import socket

    return ReplicaRow(id="x", host=host or socket.gethostname(), pid=pid, instance=instance)


def test_a_live_replica_with_our_host_and_pid_is_not_declared_dead():
    import os

    mine = replicas.instance()
    assert mine, "this test needs /proc"
    boot, _namespace, pid, started = mine.split(":")
    # Another container: the same host name and pid 1 (here: our pid), another pid namespace.
    other_container = _life(f"{boot}:12345:{pid}:{started}", pid=os.getpid())
    assert not replicas.dead_here(other_container)
    # A life recorded before lives had an instance: only its silence can end it.
    assert not replicas.dead_here(_life("", pid=os.getpid()))
    assert not replicas.dead_here(_life(mine, pid=os.getpid()))


def test_a_life_whose_process_ended_is_dead_and_a_running_one_is_not():
    code = "from monitor.service.replicas import instance; print(instance(), flush=True)"
    ended = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert replicas.dead_here(_life(ended.stdout.strip()))

    running = subprocess.Popen(
        [sys.executable, "-c", code + "; import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = running.stdout.readline().strip()
        assert line and not replicas.dead_here(_life(line))
    finally:
        running.communicate("")


# -- 9. feed URLs shown without their credentials -------------------------------------------


def test_feed_credentials_never_reach_a_headline_or_a_name(db_url, tmp_path):
    secret_url = "https://reader:s3cretpass@feeds.example.org/p.rss?api_key=K3Y-9f8e7d&page=2"
    feed = FeedConfig(url=secret_url)
    assert "s3cretpass" not in feed.name and "K3Y-9f8e7d" not in feed.name
    assert "page=2" in feed.name

    store = Store(db_url)
    with store.session() as session:
        state = FeedState(name="private", url=secret_url, last_error="HTTP 500")
        session.add(state)
        open_alert(session, state, "failing for 2 hours", utcnow())
        session.commit()
        headline = session.exec(select(StoryRow.headline)).one()
        assert session.exec(select(AlertRow)).one()
    assert "s3cretpass" not in headline and "K3Y-9f8e7d" not in headline
    assert "feeds.example.org/p.rss" in headline

    store.close()
    config = write_config(
        tmp_path / "monitor.yaml", [{"name": "private", "url": secret_url}], database_url=db_url
    )
    listing = CliRunner().invoke(cli, ["--config", str(config), "feeds", "list", "--json"])
    assert listing.exit_code == 0, listing.output
    assert "feeds.example.org/p.rss" in listing.output
    assert "s3cretpass" not in listing.output and "K3Y-9f8e7d" not in listing.output
    exported = CliRunner().invoke(cli, ["--config", str(config), "feeds", "export"])
    assert "s3cretpass" in exported.output  # a backup keeps the address whole


def test_one_feeds_broken_record_does_not_lose_the_others_in_its_batch(
    seed_server, db_url, monkeypatch
):
    """Polls are recorded in batches; a record that raises for one feed (a bug in what it
    learns) makes the batch fall back to one feed at a time: the others are recorded as
    usual, the broken one is deferred with its error, and nothing spins."""
    from monitor.ingest import schedule

    healthy = schedule.after_success

    def after_success(state, feed, *args, **kwargs):
        if feed.name == "global-wire":
            raise RuntimeError("learning this feed's rhythm failed")
        return healthy(state, feed, *args, **kwargs)

    monkeypatch.setattr(schedule, "after_success", after_success)
    capture = ConsoleCapture(make_settings(db_url, seed_feeds(seed_server)))
    service = capture.service()

    def states() -> dict[str, FeedState]:
        with service.store.session() as session:
            return {s.name: s for s in session.exec(select(FeedState)).all()}

    report = service.cycle(force=True)  # new articles: each feed's poll is recorded at once
    first = states()
    assert report.feeds == 2 and len(alert_blocks(capture.take())) == 2
    assert first["daily-ledger"].last_success is not None
    assert first["daily-ledger"].last_error == ""
    broken = first["global-wire"]
    assert broken.last_error.startswith("internal error: RuntimeError: learning this feed")
    assert broken.next_poll is not None and broken.lease_owner == ""

    service.cycle(force=True)  # nothing new: both polls wait, and are written as one batch
    second = states()
    service.close()
    assert second["daily-ledger"].last_polled > first["daily-ledger"].last_polled
    assert second["daily-ledger"].consecutive_failures == 0
    assert second["global-wire"].consecutive_failures == 2
    assert {s.lease_owner for s in second.values()} == {""}


def test_a_poll_taken_over_while_its_articles_were_stored_keeps_the_articles_not_the_record(
    db_url, caplog
):
    """The poll's record is written in the transaction that stores its articles, fenced by
    the lease like any record: if another replica took the feed over meanwhile, the articles
    stay (they are deduplicated anyway) and this replica's record is dropped, said and counted."""
    store = Store(db_url)

    def stolen(_request: Request) -> Reply:
        with store.session() as session:  # B takes the feed over while A downloads it
            session.execute(
                update(FeedState).values(
                    lease_owner="replica-b", lease_until=utcnow() + timedelta(seconds=60)
                )
            )
            session.commit()
        return Reply(200, rss([("g1", "First"), ("g2", "Second")]))

    with LocalServer() as server:
        server.handlers["/feed"] = stolen
        settings = make_settings(db_url, [FeedConfig(name="wire", url=server.url("/feed"))])
        service = ConsoleCapture(settings).service()
        report = service.cycle(force=True)
    assert report.ingest.new == 2
    with service.store.session() as session:
        state = session.exec(select(FeedState)).one()
        assert len(session.exec(select(ArticleRow)).all()) == 2
    assert state.lease_owner == "replica-b" and state.last_polled is None
    assert service.metrics.leases_lost.labels("feed")._value.get() == 1
    assert "another replica took the feed over" in caplog.text
    service.close()
    store.close()


def test_a_poll_that_stored_articles_is_recorded_in_their_transaction_not_after(
    seed_server, db_url, monkeypatch
):
    """Feeds with new articles never reach the batched records: their polls were written by
    the ingest's own transaction. A count that then fails for one feed stops no other."""
    capture = ConsoleCapture(make_settings(db_url, seed_feeds(seed_server)))
    service = capture.service()
    batched: list[str] = []
    record_all = service.poller.record_all

    def spy(polls, owner=None):
        batched.extend(outcome.feed.name for outcome, _new in polls)
        return record_all(polls, owner=owner)

    counted = service.poller.counted

    def count(outcome, kept):
        if outcome.feed.name == "daily-ledger":
            raise RuntimeError("a metrics backend that throws")
        counted(outcome, kept)

    monkeypatch.setattr(service.poller, "record_all", spy)
    monkeypatch.setattr(service.poller, "counted", count)
    report = service.cycle(force=True)
    with service.store.session() as session:
        states = {s.name: s for s in session.exec(select(FeedState)).all()}
    service.close()
    assert report.feeds == 2 and report.ingest.new > 0 and batched == []
    assert report.failed_stages == []  # the poll stage went on past the failed count
    assert all(s.last_success is not None and s.lease_owner == "" for s in states.values())
    assert service.metrics.polls.labels("global-wire")._value.get() == 1
