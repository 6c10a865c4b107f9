"""One cycle of the service: poll due feeds, ingest, write notifications, deliver them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from monitor.config import Settings
from monitor.failpoints import failpoint
from monitor.feeds.fetch import make_client
from monitor.notify.base import Notifier
from monitor.notify.console import ConsoleNotifier
from monitor.notify.outbox import DeliveryReport, deliver, enqueue
from monitor.pipeline import IngestResult, Pipeline
from monitor.poller import Poller
from monitor.rules import Matcher
from monitor.rules.parse import valid_rules
from monitor.rules.watch import RuleWatcher
from monitor.store import Store
from monitor.stories import StoryPolicy

log = logging.getLogger(__name__)


def compile_rules(path: Path) -> Matcher:
    return Matcher(valid_rules(path))


def build_notifiers(settings: Settings) -> dict[str, Notifier]:
    from monitor.notify.channels import build_channel  # slack, email, webhook

    notifiers: dict[str, Notifier] = {}
    for name, channel in settings.channels.items():
        if channel.type == "console":
            notifiers[name] = ConsoleNotifier()
        else:
            notifiers[name] = build_channel(name, channel, settings.database_url)
    return notifiers


@dataclass(slots=True)
class CycleReport:
    feeds: int = 0
    failed_feeds: int = 0
    ingest: IngestResult | None = None
    queued: int = 0
    delivery: DeliveryReport | None = None

    def summary(self) -> str:
        ingest = self.ingest or IngestResult()
        delivery = self.delivery or DeliveryReport()
        return (
            f"polled {self.feeds} feed(s), {self.failed_feeds} failed; "
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
    ) -> None:
        self.settings = settings
        self.store = store or Store(settings.database_url)
        self.notifiers = dict(notifiers) if notifiers is not None else build_notifiers(settings)
        self.matcher = matcher or compile_rules(settings.rules_dir)
        self.client = make_client(settings.http)
        self.poller = Poller(settings, self.store, self.client)
        policy = StoryPolicy(window=timedelta(days=settings.story_window_days))
        self.pipeline = Pipeline(self.store, self.matcher, policy)
        self.rule_watcher = RuleWatcher(settings.rules_dir, self.use_rules)

    def use_rules(self, matcher: Matcher) -> None:
        """Swap in a new rule set; the next article is matched by it."""
        self.matcher = matcher
        self.pipeline.matcher = matcher

    def cycle(self, force: bool = False) -> CycleReport:
        report = CycleReport(ingest=IngestResult())
        feeds = self.poller.due(force=force)
        for outcome in self.poller.poll(feeds):
            report.feeds += 1
            result = self.pipeline.ingest(outcome.articles)
            report.ingest.merge(result)
            report.failed_feeds += bool(outcome.error)
            self.poller.record(outcome, result.new)
        health_alerts = self.poller.check_health()  # feed-health alerts go the same way
        report.queued = self.notify(report.ingest.changed_alerts + health_alerts)
        failpoint("before-send")
        report.delivery = self.deliver()
        log.info("cycle: %s", report.summary())
        return report

    def notify(self, alert_ids: list[str]) -> int:
        with self.store.session() as session:
            queued = enqueue(session, alert_ids, self.settings.routes, self.settings.delivery)
            session.commit()
        return queued

    def deliver(self) -> DeliveryReport:
        return deliver(self.store, self.notifiers, self.settings.delivery)

    def close(self) -> None:
        for notifier in self.notifiers.values():
            close = getattr(notifier, "close", None)
            if close is not None:
                close()  # channels that keep an HTTP client
        self.client.close()
        self.store.close()
