"""Rules run over stored articles, so an author sees a rule's volume before it goes live, and
what a rule's gate held back: reports whose clauses held but whose model did not agree (the
alerts an analyst will not see, as Alertmanager lists the alerts it inhibits)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from monitor.detect.rules.matcher import Matcher
from monitor.detect.rules.model import Rule
from monitor.store import Store
from monitor.store.articles import article_span, stored_articles
from monitor.store.stories import story_headlines as story_headlines_of

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RuleVolume:
    rule: str
    per_day: Counter[date] = field(default_factory=Counter)
    stories: dict[str, list[str]] = field(default_factory=dict)  # story id -> article titles
    held_back: list[str] = field(default_factory=list)  # titles the rule's gate vetoed

    @property
    def articles(self) -> int:
        return sum(self.per_day.values())


@dataclass(slots=True)
class Backtest:
    scanned: int
    volumes: list[RuleVolume]  # in rule order
    failed: list[tuple[int, str, str]]  # (article id, title, error) for articles that raised


def backtest(store: Store, matcher: Matcher, since: datetime | None) -> Backtest:
    """Every rule appears in the volumes, one that fired nothing too: a rule that never fires
    is as much news to its author. An article that makes matching raise is listed in
    ``failed`` and the scan goes on, so one strange report cannot hide the volume of the rest."""
    volumes = {rule.id: RuleVolume(rule.id) for rule in matcher.rules}
    result = Backtest(0, list(volumes.values()), [])
    with store.session() as session:
        for article in stored_articles(session, since):
            result.scanned += 1
            fields = {"title": article.title, "text": article.text, "source": article.source}
            vetoed: list[Rule] = []
            try:
                matched = [match.rule.id for match in matcher.match(fields, vetoed)]
            except Exception as exc:  # one article's fault stays with it
                log.warning("backtest: article %s raised while matching: %r", article.id, exc)
                result.failed.append((article.id, article.title, repr(exc)))
                continue
            for rule in vetoed:
                volumes[rule.id].held_back.append(article.title)
            for rule_id in matched:
                volume = volumes[rule_id]
                volume.per_day[article.dated.date()] += 1
                story = article.story_id or f"article-{article.id}"
                volume.stories.setdefault(story, []).append(article.title)
    return result


def story_headlines(store: Store, story_ids: list[str]) -> dict[str, str]:
    with store.session() as session:
        return story_headlines_of(session, story_ids)


def stored_span(store: Store) -> tuple[int, datetime | None]:
    """(articles stored, the newest one's date), to tell an author their window missed some."""
    with store.session() as session:
        return article_span(session)
