"""Two senders, one store: a send whose lease another replica took over must not write its
outcome over the new holder's, and a sender renews its leases while a batch goes on.

A lease running out is simulated by writing ``lease_until`` in the past while a send is under
way (from inside the channel), which is what a stalled replica looks like to the others. The
channels are webhooks to a real HTTP server on 127.0.0.1; the store is a real SQLite file, and
PostgreSQL too where MONITOR_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from monitor.alerting.notify import enqueue
from monitor.config import RouteConfig
from monitor.delivery.channels.base import Message
from monitor.delivery.channels.webhook import WebhookNotifier
from monitor.delivery.outbox import Sender, deliver
from monitor.detect.pipeline import Pipeline
from monitor.detect.rules import Matcher
from monitor.detect.rules.parse import valid_rules
from monitor.service.metrics import Metrics
from monitor.service.replay import read_articles
from monitor.store import Store
from monitor.store.notifications import claim_notifications, renew_notifications
from monitor.store.tables import NotificationRow, utcnow
from tests.conftest import RULES, SEED_FILES
from tests.httpserver import LocalServer, Reply, Request

LEASE = timedelta(minutes=5)
# A's channels go one after the other, however slow the machine: these tests interleave B's
# work with A's sends, channel by channel, and would race if a slow send let the next channel
# start beside it (after the default half-second head start).
IN_TURN = 3600.0


class Endpoints:
    """The server's side: which message keys each path received, and what it answers."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.received: dict[str, list[str]] = {}

    def add(self, path: str, status: int = 204) -> str:
        self.received[path] = []

        def handle(request: Request) -> Reply:
            self.received[path].append(json.loads(request.body)["key"])
            return Reply(status, b"" if status < 300 else b"try later")

        self.server.handlers[path] = handle
        return self.server.url(path)


@pytest.fixture
def endpoints() -> Iterator[Endpoints]:
    with LocalServer() as server:
        yield Endpoints(server)


class During:
    """A channel that runs ``meanwhile`` (what other replicas do) just before it sends."""

    def __init__(self, url: str, meanwhile: Callable[[], None]) -> None:
        self.webhook = WebhookNotifier(url, timeout=5)
        self.meanwhile = meanwhile

    def send(self, message: Message) -> None:
        self.meanwhile()
        self.webhook.send(message)


def _story_to(store: Store, channels: list[str]) -> dict[str, str]:
    """The seed story's first notice, one row per channel; returns channel -> row key."""
    pipeline = Pipeline(store, Matcher(valid_rules(RULES)))
    changed = pipeline.ingest(read_articles(SEED_FILES[0])).changed_alerts
    with store.session() as session:
        enqueue(session, changed, [RouteConfig(channels=channels)])
        session.commit()
        rows = session.exec(select(NotificationRow)).all()
    return {row.channel: row.key for row in rows}


def _expire(store: Store, owner: str) -> None:
    """What a stall looks like to other replicas: the owner's leases have run out."""
    with store.session() as session:
        session.execute(
            update(NotificationRow)
            .where(NotificationRow.lease_owner == owner)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
        session.commit()


def _row(store: Store, key: str) -> NotificationRow:
    with store.session() as session:
        return session.exec(select(NotificationRow).where(NotificationRow.key == key)).one()


def _lost(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("monitor_leases_lost_total", {"what": "send"}) or 0


def test_a_late_outcome_does_not_overwrite_the_replica_that_took_the_send_over(
    store, endpoints, caplog
):
    """A stalls in its send; its lease runs out, B takes the row over and sends it. A's send
    then fails: recording that (a retry) would make the row pending again and send it twice."""
    keys = _story_to(store, ["hook"])
    b_url = endpoints.add("/b")

    def b_takes_over() -> None:
        _expire(store, "a")
        report = deliver(store, {"hook": WebhookNotifier(b_url, timeout=5)}, sender=Sender("b"))
        assert report.sent == 1

    metrics = Metrics()
    a_channel = During(endpoints.add("/a", status=502), b_takes_over)
    with caplog.at_level(logging.WARNING, logger="monitor.delivery.outbox"):
        report = deliver(store, {"hook": a_channel}, sender=Sender("a", metrics=metrics))

    row = _row(store, keys["hook"])
    assert (row.state, row.attempts, row.last_error, row.lease_owner) == ("sent", 1, "", "")
    assert endpoints.received == {"/b": [keys["hook"]], "/a": [keys["hook"]]}
    assert report.lost == 1 and report.retrying == 0
    assert _lost(metrics) == 1
    [warning] = [r for r in caplog.records if "lease lost" in r.getMessage()]
    assert warning.levelno == logging.WARNING and keys["hook"] in warning.getMessage()
    assert deliver(store, {"hook": a_channel}, sender=Sender("a")).sent == 0  # not again


def test_a_row_taken_over_while_it_waited_in_the_batch_is_not_sent(store, endpoints, caplog):
    """A's batch has two rows; while A sends the first, B takes the second over and sends
    it. A must see that before it sends the second, and say so."""
    keys = _story_to(store, ["one", "two"])
    two = endpoints.add("/two")

    def b_takes_over_two() -> None:
        with store.session() as session:
            session.execute(
                update(NotificationRow)
                .where(NotificationRow.key == keys["two"])
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
            session.commit()
        report = deliver(store, {"two": WebhookNotifier(two, timeout=5)}, sender=Sender("b"))
        assert report.sent == 1

    metrics = Metrics()
    channels = {
        "one": During(endpoints.add("/one"), b_takes_over_two),
        "two": WebhookNotifier(two, timeout=5),
    }
    with caplog.at_level(logging.WARNING, logger="monitor.delivery.outbox"):
        report = deliver(store, channels, sender=Sender("a", metrics=metrics, head_start=IN_TURN))

    assert endpoints.received == {"/one": [keys["one"]], "/two": [keys["two"]]}  # once each
    assert (report.sent, report.lost) == (1, 1)
    assert _lost(metrics) == 1
    [warning] = [r for r in caplog.records if "lease lost" in r.getMessage()]
    assert warning.levelno == logging.WARNING and keys["two"] in warning.getMessage()


def test_the_rows_still_waiting_in_a_long_batch_are_renewed(store, endpoints):
    """The first send takes longer than the lease: before the next send A renews every row it
    still has to send, so B, looking for work during the second send, finds none of them."""
    keys = _story_to(store, ["one", "two", "three"])
    found_by_b: list[list[str]] = []

    def slow() -> None:
        _expire(store, "a")

    def b_looks() -> None:
        found_by_b.append(claim_notifications(store, "b", utcnow(), LEASE).names)

    channels = {
        "one": During(endpoints.add("/one"), slow),
        "two": During(endpoints.add("/two"), b_looks),
        "three": WebhookNotifier(endpoints.server.url("/three"), timeout=5),
    }
    endpoints.add("/three")
    report = deliver(store, channels, sender=Sender("a", head_start=IN_TURN))
    assert found_by_b == [[]]
    assert (report.sent, report.lost) == (3, 0)
    assert {path: len(got) for path, got in endpoints.received.items()} == {
        "/one": 1,
        "/two": 1,
        "/three": 1,
    }
    assert {_row(store, key).state for key in keys.values()} == {"sent"}


def test_a_second_claim_fences_off_the_first_even_by_the_same_owner(store):
    """The fence is the claim, not only the owner: a replica's own earlier claim of a row
    (a stalled send, then the row claimed again) can no longer renew or end it."""
    with store.session() as session:
        session.add(NotificationRow(key="k", story_id="s", channel="c"))
        session.commit()
    now = utcnow() + timedelta(seconds=1)
    first = claim_notifications(store, "a", now, LEASE)
    second = claim_notifications(store, "a", now + LEASE * 2, LEASE)
    assert first.names == second.names == ["k"] and first.token != second.token
    row_id = _row(store, "k").id
    with store.session() as session:
        assert renew_notifications(session, [row_id], "a", first.token, now + LEASE) == set()
        assert renew_notifications(session, [row_id], "b", second.token, now + LEASE) == set()
        assert renew_notifications(session, [row_id], "a", second.token, now + LEASE) == {row_id}
