"""One cycle of the service: claim due feeds, poll, ingest, write notifications, deliver them.

Every step that other replicas could also be doing goes through :mod:`monitor.service.leases`: feeds
and sends are claimed, story and alert writes take turns. A cycle asked to stop (SIGTERM)
finishes storing what it already fetched, gives back the feeds it did not get to, and leaves
unsent notifications pending for the next start or another replica.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from monitor.alerting.notify import enqueue
from monitor.config import Settings
from monitor.delivery.channels.base import Notifier
from monitor.delivery.channels.build import build_channel
from monitor.delivery.outbox import DeliveryReport, Sender, deliver
from monitor.detect.pipeline import IngestResult, Pipeline
from monitor.detect.rules import Matcher
from monitor.detect.rules.parse import valid_rules
from monitor.detect.rules.watch import RuleWatcher
from monitor.detect.stories import StoryPolicy
from monitor.ingest.fetch import make_client
from monitor.ingest.poller import Poller
from monitor.service import replicas
from monitor.service.heap import Heap
from monitor.service.leases import new_replica_id
from monitor.service.metrics import Metrics
from monitor.service.polling import poll_due_feeds
from monitor.store import Store
from monitor.store.alerts import unqueued_alert_ids
from monitor.store.claims import release_owners, serialized
from monitor.store.db import store_problem
from monitor.store.failures import quarantined_count
from monitor.store.status import failing_feeds, outbox_states
from monitor.store.tables import utcnow
from monitor.util.failpoints import failpoint

log = logging.getLogger(__name__)


def compile_rules(path: Path) -> Matcher:
    return Matcher(valid_rules(path))


def build_notifiers(settings: Settings, store: Store | None = None) -> dict[str, Notifier]:
    """Every configured channel's notifier; ``store`` keeps Slack's threads across restarts."""
    channels = settings.channels.items()
    return {name: build_channel(name, channel, store) for name, channel in channels}


@dataclass(slots=True)
class CycleReport:
    feeds: int = 0
    failed_feeds: int = 0
    elsewhere: int = 0  # due, but held by another replica
    ingest: IngestResult | None = None
    queued: int = 0
    delivery: DeliveryReport | None = None
    failed_stages: list[str] = field(default_factory=list)  # stages that raised (logged)

    def idle(self) -> bool:
        """Nothing polled, stored, queued or sent, and nothing failed: a quiet tick."""
        delivery = self.delivery or DeliveryReport()
        busy = self.feeds or self.queued or self.failed_stages or self.elsewhere
        return not (busy or delivery.sent or delivery.retrying or delivery.failed)

    def summary(self) -> str:
        ingest = self.ingest or IngestResult()
        delivery = self.delivery or DeliveryReport()
        others = f" ({self.elsewhere} held by other replicas)" if self.elsewhere else ""
        return (
            f"polled {self.feeds} feed(s){others}, {self.failed_feeds} failed; "
            f"{ingest.new} new article(s), {ingest.duplicates} seen before, "
            f"{ingest.matches} match(es); {len(ingest.changed_alerts)} alert(s) changed; "
            f"{delivery.sent} notification(s) sent, {delivery.retrying} to retry, "
            f"{delivery.failed} failed"
        )


class Service:
    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        notifiers: Mapping[str, Notifier] | None = None,
        matcher: Matcher | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.clock = clock  # when feeds are due and leases end; tests run days in seconds
        self.metrics = metrics or Metrics()
        self.replica = new_replica_id()
        self.stopping = threading.Event()  # set by the daemon on SIGTERM
        self.store = store or Store(settings.database_url)
        self.notifiers = (
            dict(notifiers) if notifiers is not None else build_notifiers(settings, self.store)
        )
        self.matcher = matcher or compile_rules(settings.rules_dir)
        self.metrics.rules.set(len(self.matcher.rules))
        self.client = make_client(settings.http)
        self.poller = Poller(
            settings,
            self.store,
            self.client,
            clock=clock,
            metrics=self.metrics,
            stopping=self.stopping,
        )
        self.poller.use_rules(self.matcher)
        policy = StoryPolicy(window=timedelta(days=settings.story_window_days))
        self.pipeline = Pipeline(
            self.store,
            self.matcher,
            policy,
            metrics=self.metrics,
            story_scope=settings.story_scope,
        )
        self.rule_watcher = RuleWatcher(settings.rules_dir, self.use_rules)
        self.heap = Heap()
        self._registered = False

    def start(self) -> None:
        """Begin a daemon life: record it, count the lives that crashed lately, and free the
        leases of those that died on this host (their work is taken up at once)."""
        crashed = replicas.register(self.store, self.replica, self._silent)
        self._registered = True
        self.metrics.unclean_exits.set(len(crashed))
        dead = [r.id for r in crashed if replicas.dead_here(r)]
        freed = release_owners(self.store, dead)
        if freed:
            log.warning(
                "freed %d lease(s) held by %d crashed life/lives on this host", freed, len(dead)
            )

    @property
    def _silent(self) -> timedelta:
        return replicas.silent_after(self.settings.tick)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.replica.lease)

    def use_rules(self, matcher: Matcher) -> None:
        """Swap in a new rule set; the next article is matched by it."""
        self.matcher = matcher
        self.pipeline.use_rules(matcher)
        self.poller.use_rules(matcher)
        self.metrics.rules.set(len(matcher.rules))

    def cycle(self, force: bool = False) -> CycleReport:
        """One pass: poll and store, feed health, notify, deliver.

        Each stage is guarded on its own (see :meth:`_stage`), and within the poll stage
        each feed: whatever one feed, article or stage raises is logged and counted, and the
        rest of the cycle goes on, so a fault in polling never holds back delivery.
        """
        report = CycleReport(ingest=IngestResult())
        with self._stage("poll", report):
            self._poll(report, force)
        health_alerts: list[str] = []
        with self._stage("health", report):
            health_alerts = self.poller.check_health()  # feed-health alerts go the same way
        failpoint("before-notify")
        with self._stage("notify", report):
            report.queued = self.notify(report.ingest.changed_alerts + health_alerts)
        failpoint("before-send")
        if not self.stopping.is_set():
            with self._stage("deliver", report):
                report.delivery = self.deliver()
        self.metrics.cycles.inc()
        if report.failed_stages:
            self.metrics.cycle_failures.inc()
        with self._stage("gauges", report):
            self._gauges()
            if self._registered:
                replicas.heartbeat(self.store, self.replica)
        self.heap.settle(report.ingest.new)  # after a big ingest: see monitor.service.heap
        # A quiet tick (every few seconds, most of the day) is not worth a line at info.
        level = logging.DEBUG if report.idle() else logging.INFO
        log.log(level, "cycle: %s", report.summary(), extra={"replica": self.replica})
        return report

    @contextmanager
    def _stage(self, name: str, report: CycleReport) -> Iterator[None]:
        """Run one stage of the cycle; if it raises, log and count it and go on."""
        try:
            yield
        except Exception:
            report.failed_stages.append(name)
            self.metrics.stage_failures.labels(name).inc()
            log.exception("cycle stage %r failed; the cycle goes on, the next tick retries", name)

    def _poll(self, report: CycleReport, force: bool) -> None:
        poll_due_feeds(self, report, force)

    def _gauges(self) -> None:
        """What a dashboard alerts on: failing feeds, and a backlog or failures in the outbox."""
        with self.store.session() as session:
            failing, states = failing_feeds(session), outbox_states(session)
            quarantined = quarantined_count(session)
        self.metrics.failing_feeds.set(failing)
        self.metrics.quarantined.set(quarantined)
        for state in ("pending", "failed", "sent", "silenced", "skipped"):
            self.metrics.outbox.labels(state).set(states.get(state, 0))

    def notify(self, alert_ids: list[str]) -> int:
        """Write the outbox rows for changed alerts, and for any alert whose newest revision
        has had none yet: a crash or a stop between storing a source and this step, here or
        on another replica. Only within ``delivery.max_age``: older news is not sent."""
        since = utcnow() - timedelta(seconds=self.settings.delivery.max_age)
        with self.store.session() as session:
            serialized(session)
            missed = [a for a in unqueued_alert_ids(session, since) if a not in alert_ids]
            if missed:
                log.info(
                    "queueing %d alert(s) whose newest source had no notification", len(missed)
                )
            queued = enqueue(
                session, [*alert_ids, *missed], self.settings.routes, self.settings.delivery
            )
            session.commit()
        self.metrics.queued.inc(queued)
        return queued

    def deliver(self) -> DeliveryReport:
        sender = Sender(
            owner=self.replica,
            lease=self.lease,
            metrics=self.metrics,
            should_stop=self.stopping.is_set,
        )
        return deliver(self.store, self.notifiers, self.settings.delivery, sender)

    def readiness(self) -> dict[str, str]:
        """Problems that should keep traffic (and alerts) away from this replica; "" is fine."""
        checks = {"store": "", "rules": ""}
        try:
            self.store.ping()
        except Exception as exc:
            checks["store"] = f"unreachable: {type(exc).__name__}: {store_problem(exc)}"
        if not self.matcher.rules:
            checks["rules"] = "no rules loaded"
        return checks

    def close(self) -> None:
        if self._registered:
            try:
                replicas.stopped(self.store, self.replica)
            except Exception:  # the store may be the reason we stop; say so, stop anyway
                log.exception("could not record a clean stop")
        for notifier in self.notifiers.values():
            close = getattr(notifier, "close", None)
            if close is not None:
                close()  # channels that keep an HTTP client
        self.poller.close()
        self.client.close()
        self.store.close()
