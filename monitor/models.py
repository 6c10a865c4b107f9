"""Plain data passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.detect.prepared import Prepared


@dataclass(slots=True)
class Article:
    """One report, as the normalizer hands it to the store and the matcher.

    ``external_id`` is what the source calls it: a feed entry's guid, or the ``id`` of a replayed
    line. ``published`` is None when the source gave no date; the store then uses first-seen time.
    """

    title: str
    text: str
    source: str
    url: str = ""
    canonical_url: str = ""
    external_id: str = ""
    published: datetime | None = None
    feed: str = ""
    summary_only: bool = False
    # What the writer needs of the words, worked out where the feed was parsed
    # (monitor.detect.prepared); None, or made of other words, and the writer works it out.
    prepared: Prepared | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class CitationView:
    """A source of an alert, as notifiers and ``--json`` show it."""

    id: str
    source: str
    title: str
    url: str
    published: datetime | None
    fetched: datetime | None
    sentences: list[dict] = field(default_factory=list)  # {"field", "text", "marks"}
    seq: int = 0  # the citation's number in order of arrival, from 1
    rule_version: str = ""

    def sentence_texts(self) -> list[str]:
        return [s["text"] for s in self.sentences]


@dataclass(slots=True)
class AlertView:
    """An alert in its current state, with every citation, ready to render."""

    id: str
    rule: str
    title: str
    severity: str
    tags: list[str]
    story: str
    headline: str
    rule_version: str
    revision: int
    created: datetime
    updated: datetime
    citations: list[CitationView] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity,
            "tags": self.tags,
            "labels": self.labels,
            "story": self.story,
            "headline": self.headline,
            "rule_version": self.rule_version,
            "revision": self.revision,
            "citations": [
                {
                    "id": c.id,
                    "source": c.source,
                    "title": c.title,
                    "url": c.url,
                    "published": c.published.isoformat() if c.published else "",
                    "fetched": c.fetched.isoformat() if c.fetched else "",
                    "rule_version": c.rule_version,
                    "sentences": c.sentence_texts(),
                }
                for c in self.citations
            ],
        }
