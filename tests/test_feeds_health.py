"""Feed health: failing and silent feeds raise an alert through the outbox; missed items."""

from __future__ import annotations

import logging
import random
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from monitor.alerting.health import RULE_ID
from monitor.config import FeedConfig, HttpConfig
from monitor.ingest.health import open_alert
from monitor.ingest.poller import Poller
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store.tables import AlertRow, FeedState, utcnow
from tests.conftest import ConsoleCapture, make_settings
from tests.httpserver import LocalServer, Reply, Request


def rss(items: list[tuple[str, str]]) -> bytes:
    """(guid, RFC 2822 date) items; each a distinct, harmless report."""
    body = "".join(
        f"<item><title>Grain report {g}</title><guid>{g}</guid>"
        f"<link>https://wire.example/{g}</link><pubDate>{d}</pubDate>"
        f"<description>Grain report {g} says prices moved.</description></item>"
        for g, d in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Grain Wire</title>'
        f"<link>https://wire.example/</link>{body}</channel></rss>"
    ).encode()


class Clock:
    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv


def make(db_url: str, feed: FeedConfig) -> tuple[ConsoleCapture, Clock]:
    settings = make_settings(
        db_url, [feed], http=HttpConfig(allow_networks=["127.0.0.1/32"], jitter=0)
    )
    capture = ConsoleCapture(settings)
    return capture, Clock()


def service_with(capture: ConsoleCapture, clock: Clock):
    service = capture.service()
    service.poller.clock = clock
    service.poller.rng = random.Random(1)
    return service


def test_a_failing_feed_raises_one_health_alert_per_episode(server, db_url):
    healthy = {"on": False}
    body = rss([("g1", "Thu, 01 Aug 2019 06:00:00 +0000")])

    def handler(_request: Request) -> Reply:
        if healthy["on"]:
            return Reply(200, body, {"Content-Type": "text/xml"})
        return Reply(500, b"down", {"Content-Type": "text/plain"})

    server.handlers["/feed"] = handler
    capture, clock = make(db_url, FeedConfig(name="wire", url=server.url("/feed"), interval=600))
    service = service_with(capture, clock)

    for _ in range(3):  # three failures within 40 minutes: a blip, not yet an alert
        service.cycle(force=True)
        clock.advance(minutes=20)
    assert capture.take() == ""
    clock.advance(minutes=80)
    report = service.cycle(force=True)
    console = capture.take()
    assert report.queued == 1
    assert "ALERT [WARNING] Feed needs attention: wire" in console
    assert "failing for 2 hours (4 polls in a row): HTTP 500 Internal Server Error" in console
    with service.store.session() as session:
        alert = session.exec(select(AlertRow).where(AlertRow.rule_id == RULE_ID)).one()
    assert alert.story_id == "feed:wire" and alert.severity == "warning"

    service.cycle(force=True)  # still failing: no second notification
    assert capture.take() == ""

    healthy["on"] = True  # the source recovers: polling resumes by itself
    clock.advance(hours=1)
    report = service.cycle(force=True)
    assert report.failed_feeds == 0 and report.ingest.new == 1
    with service.store.session() as session:
        state = session.exec(select(FeedState)).one()
    assert state.health_alert == "" and state.consecutive_failures == 0

    healthy["on"] = False  # a new episode re-opens the same alert as its next revision,
    for _ in range(4):  # which the outbox treats as an update (sent as its routes say)
        clock.advance(hours=1)
        service.cycle(force=True)
    with service.store.session() as session:
        alert = session.exec(select(AlertRow).where(AlertRow.rule_id == RULE_ID)).one()
        state = session.exec(select(FeedState)).one()
    assert alert.revision == 2 and state.health_alert == alert.id
    service.close()


def test_a_feed_silent_far_past_its_rhythm_raises_an_alert(server, db_url):
    hourly = [
        ("h1", "Thu, 01 Aug 2019 06:00:00 +0000"),
        ("h2", "Thu, 01 Aug 2019 07:00:00 +0000"),
        ("h3", "Thu, 01 Aug 2019 08:00:00 +0000"),
    ]
    body = rss(hourly)

    def handler(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == '"same"':
            return Reply(304, b"", {})
        return Reply(200, body, {"Content-Type": "text/xml", "ETag": '"same"'})

    server.handlers["/feed"] = handler
    capture, clock = make(db_url, FeedConfig(name="hourly", url=server.url("/feed")))
    service = service_with(capture, clock)
    service.cycle(force=True)
    with service.store.session() as session:
        assert session.exec(select(FeedState)).one().rhythm == 3600
    clock.advance(hours=6)  # quiet, but within reason
    service.cycle(force=True)
    assert capture.take() == ""
    clock.advance(hours=18)
    service.cycle(force=True)
    console = capture.take()
    assert "Feed needs attention: hourly" in console
    assert "no new item for 24 hours; it usually brings one every 60 minutes" in console
    service.close()


def test_a_poll_of_only_new_entries_shortens_the_interval(server, db_url, caplog):
    pages = {
        "now": rss([("a1", "Thu, 01 Aug 2019 06:00:00 +0000"), ("a2", "")]),
    }
    server.handlers["/feed"] = lambda _r: Reply(200, pages["now"], {"Content-Type": "text/xml"})
    capture, clock = make(db_url, FeedConfig(name="busy", url=server.url("/feed"), interval=800))
    service = service_with(capture, clock)
    service.cycle(force=True)  # the first poll is all new by nature: no alarm
    pages["now"] = rss([("b1", ""), ("b2", ""), ("b3", "")])
    clock.advance(minutes=15)
    with caplog.at_level(logging.WARNING, logger="monitor.ingest.poller"):
        service.cycle(force=True)
    assert "all 3 entries are new since the last poll" in caplog.text
    with service.store.session() as session:
        state = session.exec(select(FeedState)).one()
    assert state.overflows == 1 and state.interval == 400
    assert state.next_poll == clock.now + timedelta(seconds=400)

    pages["now"] = rss([("b1", ""), ("b2", ""), ("b3", ""), ("c1", "")])
    clock.advance(minutes=10)
    service.cycle(force=True)  # one new of four: calm again, the interval grows back
    with service.store.session() as session:
        state = session.exec(select(FeedState)).one()
    assert state.overflows == 1 and state.interval == 501
    service.close()


def test_an_old_store_gets_the_new_feed_columns(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE feeds (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, "
            "url VARCHAR NOT NULL, title VARCHAR NOT NULL, etag VARCHAR NOT NULL, "
            "last_modified VARCHAR NOT NULL, body_hash VARCHAR NOT NULL, last_polled DATETIME, "
            "next_poll DATETIME, last_success DATETIME, last_error VARCHAR NOT NULL, "
            "consecutive_failures INTEGER NOT NULL, items_seen INTEGER NOT NULL)"
        )
        db.execute(
            "INSERT INTO feeds VALUES (1, 'old', 'https://x.example/f', '', '', '', '', NULL, "
            "NULL, NULL, '', 0, 7)"
        )
    settings = make_settings(f"sqlite:///{path}", [])
    store = Store(settings.database_url)
    Poller(settings, store, client=None)  # type: ignore[arg-type]
    with store.session() as session:
        state = session.exec(select(FeedState)).one()
    assert state.items_seen == 7 and state.origin == "config" and state.full_text is True
    assert state.overflows == 0 and state.health_alert == ""
    store.close()


def test_a_health_alert_is_counted_as_an_alert_once_it_is_stored(db_url):
    """A feed's health alert is counted with the rules' alerts (``monitor_alerts_total``,
    rule ``feed-health``) when it is created and committed; a later episode revises it, and
    is not a new alert."""
    metrics = Metrics()

    def counted() -> float:
        value = metrics.registry.get_sample_value("monitor_alerts_total", {"rule": RULE_ID})
        return value or 0.0

    store = Store(db_url)
    with store.session() as session:
        state = FeedState(name="wire", url="https://wire.example/feed", last_error="HTTP 500")
        session.add(state)
        alert_id = open_alert(session, state, "failing for 2 hours", utcnow(), metrics)
        assert counted() == 0  # not before the commit
        session.commit()
    assert counted() == 1 and state.health_alert == alert_id
    with store.session() as session:
        state = session.exec(select(FeedState)).one()
        open_alert(session, state, "failing for 9 hours", utcnow(), metrics)
        session.commit()
        alert = session.exec(select(AlertRow)).one()
    assert counted() == 1 and alert.revision == 2
    with store.session() as session:
        other = FeedState(name="other", url="https://other.example/feed")
        session.add(other)
        open_alert(session, other, "failing for 2 hours", utcnow(), metrics)
        session.rollback()  # never stored: never counted
    assert counted() == 1
    store.close()
