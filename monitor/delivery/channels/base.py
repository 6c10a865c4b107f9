"""What every channel implements, so that retry and the outbox need not know Slack from SMTP.

A channel receives a :class:`Message`: one story's alerts (every rule it matched) on first
notice, the sources added since on a follow-up, or many stories in a digest. It sends it or
raises :class:`NotifyError` saying whether a retry can help, like Alertmanager's notifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from monitor.detect.rules.model import SEVERITIES
from monitor.errors import DeliveryError
from monitor.models import AlertView, CitationView


class NotifyError(DeliveryError):
    """A channel's send that failed: ``retryable`` and ``retry_after`` as in
    :class:`~monitor.errors.DeliveryError`, which is all the retry stage reads."""


@dataclass(frozen=True, slots=True)
class MergeNote:
    """One analyst's merge of another story into the message's story."""

    other_story: str
    other_headline: str
    reports: int
    analyst: str
    note: str = ""

    def line(self) -> str:
        """One line, the same in every channel: the reports that came, from where, by whom."""
        plural = "s" if self.reports != 1 else ""
        came = f"{self.reports} report{plural} of story {self.other_story}"
        if self.other_headline:
            came += f" ({self.other_headline})"
        who = f"by {self.analyst}" if self.analyst else "by an analyst"
        why = f": {self.note}" if self.note else ""
        return f"Merged: {came} joined this story, {who}{why}"

    def to_json(self) -> dict:
        return {
            "other_story": self.other_story,
            "other_headline": self.other_headline,
            "reports": self.reports,
            "analyst": self.analyst,
            "note": self.note,
        }


@dataclass(slots=True)
class Message:
    """One notification to one channel, built from the store when it is due.

    ``key`` is stable across retries and restarts: a channel that can drop duplicates (an
    idempotency header, an email Message-ID) uses it. ``new_sources`` maps an alert id to the
    ids of the citations this message reports for the first time; on a ``new`` message that is
    every citation, on an ``update`` only the later sources.
    """

    key: str
    channel: str
    kind: str  # "new" | "update" | "digest"
    story: str  # the story's id; "" for a digest spanning several stories
    headline: str
    alerts: list[AlertView]
    new_sources: dict[str, list[str]] = field(default_factory=dict)
    # Analysts' merges into the story since the channel last heard of it: why sources that
    # came from another story arrive as a follow-up (``monitor stories merge``).
    merges: list[MergeNote] = field(default_factory=list)

    @property
    def severity(self) -> str:
        """The highest severity among the message's alerts."""
        rank = {name: i for i, name in enumerate(SEVERITIES)}
        return max((a.severity for a in self.alerts), key=lambda s: rank.get(s, 2), default="info")

    def fresh(self, alert: AlertView) -> list[CitationView]:
        """The citations of ``alert`` that this message reports for the first time."""
        ids = self.new_sources.get(alert.id)
        return alert.citations if ids is None else [c for c in alert.citations if c.id in ids]

    @property
    def thread(self) -> str:
        """What follow-ups thread under: the story (mail References, Slack thread_ts)."""
        return self.story


class Notifier(Protocol):
    def send(self, message: Message) -> None:
        """Deliver one message or raise :class:`NotifyError`."""
