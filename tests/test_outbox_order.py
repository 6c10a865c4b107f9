"""Per story and channel, messages go out in the order they were written: a follow-up never
reaches a channel before the message it follows, under retries and across replicas.

The end-to-end tests use the webhook channel against a real HTTP server on 127.0.0.1; the claim
tests run on SQLite, and on PostgreSQL too where MONITOR_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.config import ChannelConfig, DeliveryConfig, RouteConfig
from monitor.delivery.outbox import Sender, deliver
from monitor.service.cycle import Service
from monitor.store import Store
from monitor.store.notifications import claim_notifications
from monitor.store.tables import NotificationRow, utcnow
from tests.conftest import make_settings
from tests.httpserver import LocalServer, Reply, Request
from tests.test_stories import seed, third_outlet

LEASE = timedelta(minutes=5)


class Receiver:
    """A webhook endpoint that refuses the story's first notice ``refuse`` times (with
    ``status``), then accepts; it keeps the kinds it accepted, in the order they arrived."""

    def __init__(self, refuse: int, status: int = 502) -> None:
        self.refuse = refuse
        self.status = status
        self.accepted: list[str] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        kind = json.loads(request.body)["kind"]
        with self.lock:
            if kind == "new" and len(self.refused) < self.refuse:
                self.refused.append(kind)
                return Reply(self.status, b"try later")
            self.accepted.append(kind)
        return Reply(204)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


def _service(tmp_path: Path, server: LocalServer) -> Service:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'order.db'}",
        [],
        channels={"hook": ChannelConfig(type="webhook", url=server.url("/hook"), timeout=5)},
        routes=[RouteConfig(channels=["hook"], group_interval=0)],
        delivery=DeliveryConfig(backoff=0, max_age=3600),  # a retry is due at once
    )
    return Service(settings, store=Store(settings.database_url))


def _ingest(service: Service, *articles) -> None:
    service.notify(service.pipeline.ingest(list(articles)).changed_alerts)


def _rows(service: Service) -> list[tuple[str, str, int]]:
    with service.store.session() as session:
        rows = session.exec(select(NotificationRow).order_by(NotificationRow.id)).all()
    return [(r.kind, r.state, r.attempts) for r in rows]


def test_a_follow_up_waits_for_a_first_notice_that_is_being_retried(tmp_path, server):
    """The review's case: the first notice failed twice, the follow-up was written meanwhile.
    It used to go out first (and, in Slack bot mode, become the story's thread root)."""
    receiver = Receiver(refuse=2)
    server.handlers["/hook"] = receiver
    service = _service(tmp_path, server)
    _ingest(
        service, seed(0, "2019-08-01T22:15:00Z", "Ledger"), seed(1, "2019-08-02T09:40:00Z", "Wire")
    )
    assert service.deliver().retrying == 1  # the first notice: refused once
    _ingest(service, third_outlet("2019-08-03T10:00:00Z"))  # its follow-up is written

    second = service.deliver()  # refused again; the follow-up is not tried meanwhile
    third = service.deliver()  # accepted, and the follow-up goes right after it
    assert receiver.accepted == ["new", "update"]
    assert (second.sent, second.retrying) == (0, 1)
    assert (third.sent, third.retrying, third.failed) == (2, 0, 0)
    assert _rows(service) == [("new", "sent", 3), ("update", "sent", 1)]
    assert service.deliver().sent == 0  # nothing left, nothing twice
    service.close()


def test_follow_ups_go_out_once_the_message_they_follow_has_failed_for_good(tmp_path, server):
    """A first notice the channel rejects for good (a 4xx) does not hold the story's later
    messages back for ever: they are sent, as written, after it is marked failed."""
    receiver = Receiver(refuse=1, status=400)
    server.handlers["/hook"] = receiver
    service = _service(tmp_path, server)
    _ingest(
        service, seed(0, "2019-08-01T22:15:00Z", "Ledger"), seed(1, "2019-08-02T09:40:00Z", "Wire")
    )
    _ingest(service, third_outlet("2019-08-03T10:00:00Z"))
    assert _rows(service) == [("new", "pending", 0), ("update", "pending", 0)]

    report = service.deliver()
    assert (report.sent, report.failed) == (1, 1)
    assert receiver.refused == ["new"] and receiver.accepted == ["update"]
    assert _rows(service) == [("new", "failed", 1), ("update", "sent", 1)]
    service.close()


def _outbox(store: Store, rows: list[tuple[str, str]], **fields) -> None:
    with store.session() as session:
        for key, story in rows:
            session.add(NotificationRow(key=key, story_id=story, channel="c", alerts={}, **fields))
        session.commit()


def _set(store: Store, key: str, **fields) -> None:
    with store.session() as session:
        row = session.exec(select(NotificationRow).where(NotificationRow.key == key)).one()
        for name, value in fields.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def test_a_follow_up_is_not_claimed_while_the_message_before_it_is_pending(store):
    """Not while it waits for its retry, nor while this same replica holds it: only once it
    has an outcome. Other stories and channels are not held up."""
    _outbox(store, [("s1:new", "s1"), ("s1:update", "s1"), ("s2:new", "s2")])
    now = utcnow()
    _set(store, "s1:new", attempts=1, next_attempt=now + timedelta(minutes=1))  # retry later
    assert claim_notifications(store, "a", now, LEASE).names == ["s2:new"]
    assert claim_notifications(store, "b", now, LEASE).names == []

    _set(store, "s1:new", next_attempt=now)  # its retry is due: it goes first, alone
    assert claim_notifications(store, "a", now, LEASE).names == ["s1:new", "s2:new"]
    # Holding s1:new itself does not let a take the follow-up along (a claim again renews).
    assert claim_notifications(store, "a", now, LEASE).names == ["s1:new", "s2:new"]

    _set(store, "s1:new", state="failed", lease_owner="", lease_until=None)  # for good
    assert claim_notifications(store, "b", now + LEASE * 2, LEASE).names == [
        "s1:update",
        "s2:new",
    ]


def test_the_claim_keeps_the_order_of_digests_of_a_channel(store):
    """A digest has no story (""), so one channel's digests follow each other."""
    _outbox(store, [("digest:c:1", ""), ("digest:c:2", "")])
    now = utcnow()
    _set(store, "digest:c:1", attempts=1, next_attempt=now + timedelta(minutes=1))
    assert claim_notifications(store, "a", now, LEASE).names == []


def test_the_send_loop_holds_back_a_row_an_earlier_one_now_precedes(store):
    """The order is checked again before each send: on PostgreSQL a row's id is taken before
    the row commits, so a row with a lower id can become visible after a later one of its
    story was claimed. Here it appears while the batch is under way (between two sends)."""
    with store.session() as session:
        session.add(NotificationRow(id=10, key="s2:new", story_id="s2", channel="c"))
        session.add(NotificationRow(id=20, key="s1:update", story_id="s1", channel="c"))
        session.commit()

    class LateRow:
        """Stands in for should_stop, which the loop asks before each row: once the first row
        has its outcome, the late row appears, before the second row is sent."""

        def __init__(self) -> None:
            self.added = False

        def __call__(self) -> bool:
            with store.session() as session:
                first = session.get(NotificationRow, 10)
                if not self.added and first is not None and first.state != "pending":
                    session.add(NotificationRow(id=15, key="s1:new", story_id="s1", channel="c"))
                    session.commit()
                    self.added = True
            return False

    # The hand-made rows cover no alerts, so a send is refused before any channel is called
    # (failed for good): what tells whether the loop tried a row is its state and attempts.
    late = LateRow()
    deliver(store, {}, sender=Sender(owner="a", should_stop=late))
    assert late.added
    with store.session() as session:
        rows = {r.key: r for r in session.exec(select(NotificationRow)).all()}
    assert (rows["s2:new"].state, rows["s2:new"].attempts) == ("failed", 1)
    held = rows["s1:update"]
    assert (held.state, held.attempts, held.lease_owner) == ("pending", 0, "")
