"""Channels send side by side: a channel whose server takes ten seconds to answer does not hold
up another's delivery, and whatever one channel raises stays in that channel.

Real servers on 127.0.0.1 (a Slack-like incoming webhook that answers late, a plain webhook),
a real SQLite store, the daemon's own cycle.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.config import ChannelConfig, DeliveryConfig, RouteConfig
from monitor.delivery.channels.base import Message
from monitor.delivery.channels.webhook import WebhookNotifier
from monitor.delivery.fanout import fan_out
from monitor.delivery.outbox import Sender, deliver
from monitor.service.cycle import Service
from monitor.service.replay import read_articles
from monitor.store import Store
from monitor.store.tables import NotificationRow
from tests.conftest import SEED_FILES, make_settings
from tests.httpserver import LocalServer, Reply, Request
from tests.test_notify_slack import FakeSlack

SLOW_ANSWER = 10.0  # seconds the Slack stand-in takes to answer
SLACK_TIMEOUT = 2.0  # the slow channel gives up sooner, so the test stays short


class Arrivals:
    """The fast endpoint: when each message arrived, by the monotonic clock."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.keys: list[str] = []

    def __call__(self, request: Request) -> Reply:
        self.times.append(time.monotonic())
        self.keys.append(json.loads(request.body)["key"])
        return Reply(204)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


def _rows(store: Store) -> dict[str, NotificationRow]:
    with store.session() as session:
        return {r.channel: r for r in session.exec(select(NotificationRow)).all()}


def test_a_channel_that_takes_ten_seconds_does_not_delay_another(tmp_path: Path, server):
    slack = FakeSlack(server)
    answer = threading.Event()  # set at the end, so the stand-in's thread ends with the test

    def late_slack(request: Request) -> Reply:
        answer.wait(SLOW_ANSWER)
        return slack.webhook(request)

    server.handlers["/slow-slack"] = late_slack
    fast = Arrivals()
    server.handlers["/fast"] = fast
    settings = make_settings(
        f"sqlite:///{tmp_path / 'fanout.db'}",
        [],
        channels={
            "slow": ChannelConfig(
                type="slack", webhook_url=server.url("/slow-slack"), timeout=SLACK_TIMEOUT
            ),
            "fast": ChannelConfig(type="webhook", url=server.url("/fast"), timeout=5),
        },
        # slow first: its row is the older one, so a send in row order would wait for it
        routes=[RouteConfig(channels=["slow", "fast"])],
        delivery=DeliveryConfig(backoff=60, max_age=3600),
    )
    service = Service(settings, store=Store(settings.database_url))
    try:
        changed = service.pipeline.ingest(read_articles(SEED_FILES[0])).changed_alerts
        assert service.notify(changed) == 2
        started = time.monotonic()
        report = service.cycle()
        took = time.monotonic() - started
    finally:
        answer.set()
        service.close()

    assert len(fast.times) == 1, fast.keys
    assert fast.times[0] - started < 1.0, fast.times[0] - started
    assert report.delivery is not None
    assert (report.delivery.sent, report.delivery.retrying) == (1, 1)
    assert took < SLACK_TIMEOUT + 5  # the cycle waited for the slow channel's own timeout only
    rows = _rows(service.store)
    assert (rows["fast"].state, rows["fast"].attempts) == ("sent", 1)
    slow = rows["slow"]
    assert (slow.state, slow.attempts, slow.lease_owner) == ("pending", 1, "")
    assert "timed out" in slow.last_error  # it waits for its retry, in 60 s


class Raises:
    """A channel with a bug: every send raises something that is not a NotifyError."""

    def send(self, message: Message) -> None:
        raise RuntimeError("the channel's own bug")


def test_what_one_channel_raises_stays_in_that_channel(store, server):
    from monitor.alerting.notify import enqueue
    from monitor.detect.pipeline import Pipeline
    from monitor.detect.rules import Matcher
    from monitor.detect.rules.parse import valid_rules
    from tests.conftest import RULES

    fast = Arrivals()
    server.handlers["/fast"] = fast
    changed = (
        Pipeline(store, Matcher(valid_rules(RULES)))
        .ingest(read_articles(SEED_FILES[0]))
        .changed_alerts
    )
    with store.session() as session:
        enqueue(session, changed, [RouteConfig(channels=["buggy", "fast"])])
        session.commit()
    channels = {"buggy": Raises(), "fast": WebhookNotifier(server.url("/fast"), timeout=5)}
    report = deliver(store, channels, sender=Sender(owner="a"))

    assert (report.sent, report.retrying, report.failed) == (1, 1, 0)
    assert len(fast.keys) == 1
    rows = _rows(store)
    assert rows["fast"].state == "sent"
    assert rows["buggy"].state == "pending"
    assert rows["buggy"].last_error == "RuntimeError: the channel's own bug"


def test_fan_out_finishes_every_lane_before_it_reports_one_that_failed():
    done: list[str] = []

    def work(lane: str) -> None:
        if lane == "broken":
            raise OSError("the store went away")
        done.append(lane)

    lanes = [("broken", "broken"), ("one", "one"), ("two", "two")]
    with pytest.raises(OSError, match="the store went away"):
        fan_out(lanes, work, head_start=0.5)
    assert sorted(done) == ["one", "two"]


def test_fan_out_hands_back_the_lanes_it_did_not_start_when_asked_to_stop():
    started: list[str] = []
    skipped: list[str] = []

    def stop_after_first() -> bool:
        return bool(started)

    fan_out(
        [("a", "a"), ("b", "b"), ("c", "c")],
        started.append,
        head_start=5.0,
        should_stop=stop_after_first,
        skipped=skipped.append,
    )
    assert started == ["a"] and skipped == ["b", "c"]
