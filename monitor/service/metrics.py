"""What the daemon counts, for Prometheus: one registry per service, not the global one.

A registry of its own keeps two services in one process (tests, ``replay`` beside a daemon)
from adding to each other's counters, and keeps the exposition free of whatever else a library
registered globally. The stages are handed this object and count as they go; ``/metrics``
serves it.
"""

from __future__ import annotations

import platform

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from monitor import __version__

# Feeds answer in tens of milliseconds to tens of seconds; channels likewise, while the time
# from a notification's row to its send spans group_wait and retries: minutes to a day.
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LATENCY_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        Info("monitor_build", "The running version.", registry=r).info(
            {"version": __version__, "python": platform.python_version()}
        )
        self.polls = Counter("monitor_polls", "Feed polls, by feed.", ["feed"], registry=r)
        self.poll_errors = Counter(
            "monitor_poll_errors", "Feed polls that failed, by feed.", ["feed"], registry=r
        )
        self.poll_seconds = Histogram(
            "monitor_poll_duration_seconds",
            "Time to fetch and parse a feed, by feed.",
            ["feed"],
            buckets=POLL_BUCKETS,
            registry=r,
        )
        self.last_success = Gauge(
            "monitor_last_successful_poll_timestamp_seconds",
            "Unix time of the feed's last successful poll.",
            ["feed"],
            registry=r,
        )
        self.articles = Counter("monitor_articles_ingested", "New articles stored.", registry=r)
        self.duplicates = Counter(
            "monitor_articles_duplicate", "Articles seen before and not stored again.", registry=r
        )
        self.matches = Counter(
            "monitor_rule_matches", "Articles a rule matched, by rule.", ["rule"], registry=r
        )
        self.gate_vetoes = Counter(
            "monitor_gate_vetoes",
            "Articles whose rule clauses held but whose gate model did not agree, by rule.",
            ["rule"],
            registry=r,
        )
        self.stories = Counter("monitor_stories", "Stories started.", registry=r)
        self.alerts = Counter(
            "monitor_alerts",
            "Alerts created (one per rule and story), by rule.",
            ["rule"],
            registry=r,
        )
        self.citations = Counter(
            "monitor_alert_citations", "Sources added to alerts, by rule.", ["rule"], registry=r
        )
        self.queued = Counter(
            "monitor_notifications_queued",
            "Notification rows written to the outbox.",
            registry=r,
        )
        self.deliveries = Counter(
            "monitor_deliveries",
            "Send attempts by channel and outcome (sent, retrying, failed).",
            ["channel", "outcome"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "monitor_delivery_latency_seconds",
            "From a notification's row in the outbox to the channel accepting it.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.cycles = Counter("monitor_cycles", "Scheduler cycles run.", registry=r)
        self.cycle_failures = Counter(
            "monitor_cycle_failures",
            "Cycles in which a stage raised (logged; the other stages ran, the next tick retries).",
            registry=r,
        )
        self.leases_taken_over = Counter(
            "monitor_leases_taken_over",
            "Feeds or sends claimed after another replica's lease expired.",
            registry=r,
        )
        self.leases_lost = Counter(
            "monitor_leases_lost",
            "Work whose lease another replica took over before it was recorded (what: feed, "
            "send); the late write was dropped.",
            ["what"],
            registry=r,
        )
        self.rules = Gauge("monitor_rules_loaded", "Rules in the live rule set.", registry=r)
        self.rules_reload_failures = Counter(
            "monitor_rules_reload_failures",
            "Rule file changes rejected for their problems; the last good rules stayed live.",
            registry=r,
        )
        self.rules_reload_ok = Gauge(
            "monitor_rules_reload_ok",
            "1 while the live rules are the rule files' latest state; 0 while a change is "
            "rejected.",
            registry=r,
        )
        self.rules_reload_ok.set(1)
        self.failing_feeds = Gauge(
            "monitor_feeds_failing", "Feeds whose last poll failed (after each cycle).", registry=r
        )
        self.outbox = Gauge(
            "monitor_outbox",
            "Notification rows by state (pending, failed, ...) after each cycle.",
            ["state"],
            registry=r,
        )
        self.unclean_exits = Gauge(
            "monitor_unclean_exits_recent",
            "Daemon lives on this host that ended without a clean stop in the last hour.",
            registry=r,
        )
        self.article_failures = Counter(
            "monitor_article_failures",
            "Articles that raised while being stored, by feed (retried, then quarantined).",
            ["feed"],
            registry=r,
        )
        self.quarantined = Gauge(
            "monitor_articles_quarantined",
            "Articles skipped after failing too often (after each cycle).",
            registry=r,
        )
        self.stage_failures = Counter(
            "monitor_stage_failures",
            "A cycle's stage (poll, feed, health, notify, deliver) that raised: logged, and "
            "the cycle went on with the next stage.",
            ["stage"],
            registry=r,
        )
        self.pruned = Counter(
            "monitor_articles_pruned", "Old articles no alert cites, deleted.", registry=r
        )
        self.verdicts = Counter(
            "monitor_verdicts",
            "Analysts' verdicts saved in the console, by rule and verdict (relevant, "
            "not_relevant).",
            ["rule", "verdict"],
            registry=r,
        )
