"""The pipeline's bookkeeping: what an ingest did, and what one transaction did until it commits.

A transaction's counts and log lines are kept aside (:class:`BatchOutcome`) and published only
once it commits: a batch that rolls back is stored again one article at a time, and must not
have counted or logged anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.models import Article

if TYPE_CHECKING:
    from monitor.service.metrics import Metrics

# The pipeline's lines: operators filter "article matched rule" by this name.
log = logging.getLogger("monitor.detect.pipeline")


@dataclass(slots=True)
class IngestResult:
    new: int = 0
    duplicates: int = 0
    matches: int = 0
    changed_alerts: list[str] = field(default_factory=list)
    failed: int = 0  # articles that raised this time; retried at the next poll
    quarantined: int = 0  # articles skipped: they failed too often (see store.failures)
    errors: list[str] = field(default_factory=list)  # why, one line per failed article
    # What the ingest's ``finish`` returned in the articles' transaction; None: it did not run
    # there. One ingest's alone: merging leaves it out.
    finished: bool | None = None

    def merge(self, other: IngestResult) -> None:
        self.new += other.new
        self.duplicates += other.duplicates
        self.matches += other.matches
        self.failed += other.failed
        self.quarantined += other.quarantined
        self.errors.extend(other.errors)
        for alert_id in other.changed_alerts:
            self.note_alert(alert_id)

    def note_alert(self, alert_id: str) -> None:
        if alert_id not in self.changed_alerts:
            self.changed_alerts.append(alert_id)


@dataclass(slots=True)
class Item:
    """An article on its way into the store, with what names it across polls."""

    article: Article
    digest: str  # the hash of its words (content_hash)
    key: str  # see store.failures.failure_key
    failed_before: bool = False  # failed at an earlier poll, not (yet) quarantined


def still_to_store(
    items: Sequence[Item], failed: dict[tuple[str, str], bool], result: IngestResult
) -> list[Item]:
    """The items not quarantined, given ``failed`` ((feed, key) -> quarantined, for those that
    failed before), each marked if it failed before; the quarantined are counted."""
    kept = []
    for item in items:
        quarantined = failed.get((item.article.feed, item.key))
        if quarantined:
            result.quarantined += 1
        else:
            item.failed_before = quarantined is not None
            kept.append(item)
    return kept


@dataclass(slots=True)
class MatchLog:
    """One "article matched rule" line, written once its transaction committed."""

    article: int | None
    rule: str
    story: str | None
    alert: str | None


@dataclass(slots=True)
class BatchOutcome:
    """What one transaction did, kept aside until it commits."""

    result: IngestResult = field(default_factory=IngestResult)
    counts: list[tuple[str, str | None]] = field(default_factory=list)  # (metric, rule)
    logs: list[MatchLog] = field(default_factory=list)
    vetoes: list[tuple[int | None, str]] = field(default_factory=list)  # (article, rule) vetoed

    def count(self, metric: str, rule: str | None = None) -> None:
        self.counts.append((metric, rule))

    def publish(self, metrics: Metrics | None) -> None:
        """Count and log what the committed transaction did."""
        if metrics is not None:
            for name, rule in self.counts:
                counter = getattr(metrics, name)
                (counter.labels(rule) if rule else counter).inc()
        for article, rule in self.vetoes:
            log.info(
                "article %s: rule %s's clauses held, its gate held it back",
                article,
                rule,
                extra={"article": article, "rule": rule, "gate": "vetoed"},
            )
        for line in self.logs:
            log.info(
                "article %s matched rule %s (story %s)",
                line.article,
                line.rule,
                line.story,
                extra={
                    "article": line.article,
                    "rule": line.rule,
                    "story": line.story,
                    "alert": line.alert,
                },
            )
