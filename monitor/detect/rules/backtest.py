"""Rules run over stored articles, so an author sees a rule's volume before it goes live, and
what a rule's gate held back: reports whose clauses held but whose model did not agree (the
alerts an analyst will not see, as Alertmanager lists the alerts it inhibits)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from monitor.detect.rules.evaluate import gate_passes
from monitor.detect.rules.matcher import Matcher
from monitor.store import Store
from monitor.store.articles import article_span, stored_articles
from monitor.store.stories import story_headlines as story_headlines_of


@dataclass(slots=True)
class RuleVolume:
    rule: str
    per_day: Counter[date] = field(default_factory=Counter)
    stories: dict[str, list[str]] = field(default_factory=dict)  # story id -> article titles
    held_back: list[str] = field(default_factory=list)  # titles the rule's gate vetoed

    @property
    def articles(self) -> int:
        return sum(self.per_day.values())


def backtest(
    store: Store, matcher: Matcher, since: datetime | None
) -> tuple[int, list[RuleVolume]]:
    """(articles scanned, volume per rule), in rule order; a rule that fired nothing is there
    too, with no articles: a rule that never fires is as much news to its author."""
    volumes = {rule.id: RuleVolume(rule.id) for rule in matcher.rules}
    gated = {rule.id: rule for rule in matcher.rules}
    # One scan with the gates left out; each match then meets its rule's gate, so that what a
    # gate held back is known without matching every article twice.
    clauses = Matcher([dataclasses.replace(rule, gate=None) for rule in matcher.rules])
    scanned = 0
    with store.session() as session:
        for article in stored_articles(session, since):
            scanned += 1
            fields = {"title": article.title, "text": article.text, "source": article.source}
            for match in clauses.match(fields):
                volume = volumes[match.rule.id]
                if not gate_passes(gated[match.rule.id], fields, match.sentences):
                    volume.held_back.append(article.title)
                    continue
                volume.per_day[article.dated.date()] += 1
                story = article.story_id or f"article-{article.id}"
                volume.stories.setdefault(story, []).append(article.title)
    return scanned, list(volumes.values())


def story_headlines(store: Store, story_ids: list[str]) -> dict[str, str]:
    with store.session() as session:
        return story_headlines_of(session, story_ids)


def stored_span(store: Store) -> tuple[int, datetime | None]:
    """(articles stored, the newest one's date), to tell an author their window missed some."""
    with store.session() as session:
        return article_span(session)
