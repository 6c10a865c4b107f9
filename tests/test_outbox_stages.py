"""Each delivery stage on its own: the writing chain's dedup, mute and group on plain data, the
sending chain's hold, order, send, retry and record on a real store (SQLite, and PostgreSQL
where MONITOR_TEST_POSTGRES_URL is set), and the outbox's state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from monitor.config import DeliveryConfig, RouteConfig
from monitor.delivery.attempt import Attempt, DeliveryReport, SendContext, Sender
from monitor.delivery.channels.base import Message, NotifyError
from monitor.delivery.stages import Chain
from monitor.delivery.stages.dedup import Dedup
from monitor.delivery.stages.group import Group
from monitor.delivery.stages.hold import Hold
from monitor.delivery.stages.mute import Mute
from monitor.delivery.stages.order import Order
from monitor.delivery.stages.record import Record
from monitor.delivery.stages.retry import Retry
from monitor.delivery.stages.send import Send
from monitor.delivery.stages.writing import Candidate, WriteContext
from monitor.delivery.states import IllegalTransition, advance, initial
from monitor.service.metrics import Metrics
from monitor.store import Store
from monitor.store.notifications import SentLedger, claim_notifications
from monitor.store.tables import NotificationRow, SilenceRow, utcnow
from tests.test_routes import alert

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _candidate(given: int | None = None, last_sent: datetime | None = None, **route) -> Candidate:
    ledger = SentLedger()
    if given is not None:
        ledger.given["al-1"] = ledger.sent_upto["al-1"] = given
    if last_sent is not None:
        ledger.last_sent["al-1"] = last_sent
    return Candidate.of(alert(revision=2), RouteConfig(channels=["c"], **route), "c", ledger)


def _ctx(*silences: SilenceRow) -> WriteContext:
    return WriteContext(now=NOW, silences=list(silences))


# -- the writing chain --------------------------------------------------------------------


def test_dedup_drops_what_the_channel_already_has():
    fresh, behind, level = _candidate(), _candidate(given=1), _candidate(given=2)
    assert Dedup().run(_ctx(), [fresh, behind, level]) == [fresh, behind]


def test_mute_records_a_silenced_alert_without_dropping_it():
    silence = SilenceRow(id=7, rule="dprk-oil-transfer", reason="known", ends=NOW)
    other = SilenceRow(id=8, rule="another-rule", reason="", ends=NOW)
    [muted] = Mute().run(_ctx(silence), [_candidate()])
    assert muted.state == "silenced"
    [loud] = Mute().run(_ctx(other), [_candidate()])
    assert loud.state == "pending"


def test_group_picks_the_kind_and_the_wait():
    [first] = Group().run(_ctx(), [_candidate(group_wait=5)])
    assert (first.kind, first.wait) == ("new", 5)
    [update] = Group().run(_ctx(), [_candidate(given=1, group_interval=60)])
    assert (update.kind, update.wait, update.state) == ("update", 60, "pending")
    [digested] = Group().run(_ctx(), [_candidate(given=1, updates="digest", digest_interval=9)])
    assert (digested.kind, digested.wait) == ("digest", 9)
    [digest] = Group().run(_ctx(), [_candidate(mode="digest", digest_interval=9)])
    assert (digest.kind, digest.wait) == ("digest", 9)


def test_group_skips_follow_ups_that_are_off_until_the_repeat_interval():
    recent, long_ago = NOW - timedelta(minutes=5), NOW - timedelta(hours=2)
    [skipped] = Group().run(_ctx(), [_candidate(given=1, last_sent=recent, updates="none")])
    assert skipped.state == "skipped"
    again = _candidate(given=1, last_sent=long_ago, updates="none", repeat_interval=3600)
    [repeated] = Group().run(_ctx(), [again])
    assert (repeated.state, repeated.since) == ("pending", 1)


def test_the_writing_chain_keeps_a_silence_over_a_skip():
    silence = SilenceRow(id=7, story="st-1", reason="", ends=NOW)
    chain = Chain(Dedup(), Mute(), Group())
    [candidate] = chain.run(_ctx(silence), [_candidate(given=1, updates="none")])
    assert candidate.state == "silenced"
    assert repr(chain) == "Dedup -> Mute -> Group"


# -- the state machine ----------------------------------------------------------------------


def test_only_a_pending_row_moves_and_only_to_an_outcome():
    assert advance("pending", "sent") == "sent"
    assert advance("pending", "pending") == "pending"  # a retry
    assert advance("pending", "failed") == "failed"
    for done in ("sent", "failed", "silenced", "skipped"):
        with pytest.raises(IllegalTransition):
            advance(done, "sent")
    with pytest.raises(IllegalTransition):
        advance("pending", "queued")
    assert initial("silenced") == "silenced"
    with pytest.raises(IllegalTransition):
        initial("sent")


# -- the sending chain -----------------------------------------------------------------------


class Channel:
    """A channel that keeps what it was given, or raises ``error``."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.messages: list[Message] = []

    def send(self, message: Message) -> None:
        if self.error is not None:
            raise self.error
        self.messages.append(message)


def _outbox(store: Store, *keys: str) -> None:
    """Rows of stories of their own ("s1:new" is of story "s1"), so none waits for another."""
    with store.session() as session:
        for key in keys:
            session.add(NotificationRow(key=key, story_id=key.split(":")[0], channel="c"))
        session.commit()


def _claimed(store: Store, owner: str = "a", **sender) -> tuple[SendContext, list[Attempt]]:
    claim = claim_notifications(store, owner, utcnow(), LEASE)
    with store.session() as session:
        rows = session.exec(
            select(NotificationRow)
            .where(NotificationRow.key.in_(claim.names))  # type: ignore[attr-defined]
            .order_by(NotificationRow.id)
        ).all()
    ctx = SendContext(
        store,
        {"c": Channel()},
        DeliveryConfig(backoff=30, max_backoff=3600),
        Sender(owner=owner, **sender),
        claim.token,
        DeliveryReport(),
        set(),
        {r.id for r in rows},
    )
    return ctx, [Attempt(r) for r in rows]


def _row(store: Store, key: str) -> NotificationRow:
    with store.session() as session:
        return session.exec(select(NotificationRow).where(NotificationRow.key == key)).one()


def test_hold_drops_a_row_another_claim_took_over(store):
    _outbox(store, "k:new")
    ctx, attempts = _claimed(store)
    assert Hold().run(ctx, attempts) == attempts
    claim_notifications(store, "b", utcnow() + LEASE * 2, LEASE)  # a stalled; b took it
    assert Hold().run(ctx, attempts) == []
    assert ctx.report.lost == 1 and "k:new" in ctx.tried


def test_order_gives_back_a_row_whose_earlier_message_appeared_meanwhile(store):
    _outbox(store, "s:update")
    ctx, attempts = _claimed(store)
    with store.session() as session:  # an earlier row commits late (a PostgreSQL id race)
        session.add(NotificationRow(id=0, key="s:new", story_id="s", channel="c"))
        session.commit()
    assert Order().run(ctx, attempts) == []
    assert _row(store, "s:update").lease_owner == "" and ctx.tried == set()


def test_send_marks_a_row_sent_or_keeps_what_the_channel_said(store):
    from monitor.alerting.notify import enqueue
    from monitor.detect.pipeline import Pipeline
    from monitor.detect.rules import Matcher
    from monitor.detect.rules.parse import valid_rules
    from monitor.service.replay import read_articles
    from tests.conftest import RULES, SEED_FILES

    pipeline = Pipeline(store, Matcher(valid_rules(RULES)))
    changed = pipeline.ingest(read_articles(SEED_FILES[0])).changed_alerts
    with store.session() as session:
        enqueue(session, changed, [RouteConfig(channels=["c"])])
        session.commit()
    ctx, [attempt] = _claimed(store)
    for error, said in [
        (NotifyError("busy", retryable=True, retry_after=7), ("busy", True, 7)),
        (NotifyError("rejected", retryable=False), ("rejected", False, None)),
        (RuntimeError("bug"), ("RuntimeError: bug", True, None)),
    ]:
        ctx.notifiers = {"c": Channel(error)}
        tried = Attempt(attempt.row.model_copy())
        Send().run(ctx, [tried])
        assert (tried.error, tried.retryable, tried.retry_after) == said
        assert tried.row.state == "pending" and tried.row.attempts == 1
    channel = Channel()
    ctx.notifiers = {"c": channel}
    Send().run(ctx, [attempt])
    assert (attempt.row.state, attempt.row.attempts, attempt.error) == ("sent", 1, "")
    assert [m.key for m in channel.messages] == [attempt.row.key]
    assert attempt.message is channel.messages[0] and attempt.row.key in ctx.tried

    gone = Attempt(NotificationRow(key="gone", channel="c", alerts={"al-gone": [0, 1]}))
    Send().run(ctx, [gone])  # its alerts are gone: no channel is called, no retry helps
    assert (gone.error, gone.retryable) == ("the alerts of notification gone are gone", False)
    assert len(channel.messages) == 1


def test_retry_backs_off_honours_retry_after_and_gives_up_at_the_deadline():
    delivery = DeliveryConfig(backoff=30, max_backoff=3600)
    now = utcnow()

    def failed(attempts: int, **kw) -> NotificationRow:
        row = NotificationRow(key="k", attempts=attempts, deadline=now + timedelta(hours=1))
        attempt = Attempt(row, error="boom", retryable=kw.pop("retryable", True), **kw)
        Retry().run(SendContextStub(delivery), [attempt])
        return row

    third = failed(3)
    assert third.state == "pending"
    assert timedelta(seconds=119) < third.next_attempt - now < timedelta(seconds=125)  # 30*2*2
    told = failed(1, retry_after=600)
    assert timedelta(seconds=599) < told.next_attempt - now < timedelta(seconds=605)
    assert failed(20).state == "failed"  # an hour of backoff passes the deadline
    assert failed(1, retryable=False).state == "failed"
    assert third.last_error == "boom"


class SendContextStub:
    """Retry reads only the delivery settings from its context."""

    def __init__(self, delivery: DeliveryConfig) -> None:
        self.delivery = delivery


def test_record_writes_only_what_the_claim_still_holds_and_counts_it(store):
    _outbox(store, "s:one", "t:two")
    metrics = Metrics()
    ctx, [one, two] = _claimed(store, metrics=metrics)
    one.row.state, one.row.attempts, one.row.sent = "sent", 1, utcnow()
    assert Record().run(ctx, [one]) == [one]
    assert _row(store, "s:one").state == "sent" and ("s", "c") in ctx.ended
    claim_notifications(store, "b", utcnow() + LEASE * 2, LEASE)  # b took "two" over
    two.row.state, two.row.attempts = "sent", 1
    assert Record().run(ctx, [two]) == []
    assert _row(store, "t:two").state == "pending"
    assert (ctx.report.sent, ctx.report.lost) == (1, 1)
    sample = metrics.registry.get_sample_value
    assert sample("monitor_deliveries_total", {"channel": "c", "outcome": "sent"}) == 1
