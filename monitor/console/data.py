"""What each page shows, as plain data: the HTML views and the JSON API render the same objects,
so a page and its API answer cannot disagree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from monitor.alerting.alerts import alert_id_for, load_alert
from monitor.console.feedback import Proposal, proposals
from monitor.detect.rules import Rule
from monitor.store.alerts import list_alert_ids, stored_alert
from monitor.store.console import StoryFilter, StorySummary, rule_hits, story_ids, story_summaries
from monitor.store.notifications import deliveries
from monitor.store.stories import find_story
from monitor.store.tables import ArticleRow, utcnow
from monitor.store.verdicts import VerdictRow, precision, rule_verdicts, story_verdicts
from monitor.util.dates import as_utc

CHART_DAYS = 90


def citation_id(article: ArticleRow) -> str:
    """A citation's id as ``alerts list --json`` shows it, and the API's ``article`` takes."""
    return article.external_id or str(article.id)


@dataclass(slots=True)
class StoryPage:
    stories: list[StorySummary]
    page: int
    more: bool


def story_page(session: Session, where: StoryFilter, page: int, size: int) -> StoryPage:
    found = story_ids(session, where, (page - 1) * size, size + 1)
    return StoryPage(story_summaries(session, found[:size]), page, len(found) > size)


@dataclass(slots=True)
class RuleMatch:
    """One rule's citation of a source: what matched, and the analyst's verdict on it."""

    rule: str
    severity: str
    rule_version: str
    sentences: list[dict]  # {"field", "text", "marks"}
    verdict: VerdictRow | None


@dataclass(slots=True)
class Source:
    """A report of the story, with every rule that cited it."""

    article_id: int
    citation: str
    outlet: str
    title: str
    url: str
    published: datetime | None
    fetched: datetime | None
    matches: list[RuleMatch] = field(default_factory=list)


@dataclass(slots=True)
class StoryDetail:
    id: str
    headline: str
    first_published: datetime
    last_published: datetime
    rules: list[tuple[str, str, str]]  # (rule, severity, alert id)
    sources: list[Source]
    deliveries: dict[str, list[dict]]  # alert id -> its rows in the outbox


def story_detail(session: Session, story_id: str) -> StoryDetail | None:
    story = find_story(session, story_id)
    if story is None:
        return None
    verdicts = story_verdicts(session, story_id)
    sources: dict[int, Source] = {}
    rules, sent = [], {}
    for alert_id in list_alert_ids(session, stories=[story_id]):
        stored = stored_alert(session, alert_id)
        view = load_alert(session, alert_id)
        if stored is None or view is None:
            continue
        alert = stored.alert
        rules.append((alert.rule_id, alert.severity, alert.id))
        sent[alert.id] = deliveries(session, view)
        for citation, article in stored.citations:
            assert article.id is not None
            source = sources.get(article.id)
            if source is None:
                source = sources[article.id] = Source(
                    article.id,
                    citation_id(article),
                    article.source,
                    article.title,
                    article.url,
                    article.published,
                    article.fetched,
                )
            source.matches.append(
                RuleMatch(
                    alert.rule_id,
                    alert.severity,
                    citation.rule_version,
                    list(citation.sentences or []),
                    verdicts.get((alert.rule_id, article.id)),
                )
            )
    timeline = sorted(sources.values(), key=lambda s: as_utc(s.published or s.fetched or utcnow()))
    return StoryDetail(
        story_id,
        story.headline,
        story.first_published,
        story.last_published,
        rules,
        timeline,
        sent,
    )


def cited_sentences(session: Session, story: str, rule: str, citation: str):
    """The article a verdict is about and its cited sentences, or None if the rule's alert on
    the story does not cite it."""
    stored = stored_alert(session, alert_id_for(rule, story))
    if stored is None:
        return None
    for row, article in stored.citations:
        if citation_id(article) == citation:
            return article.id, tuple(s["text"] for s in row.sentences or [])
    return None


@dataclass(slots=True)
class RuleDetail:
    rule: Rule
    source: str
    hits: list[tuple[str, int]]  # (day, citations), oldest first, CHART_DAYS of them
    verdicts: Counter[str]
    precision: float | None
    proposed: Proposal


def rule_source(rule: Rule) -> str:
    try:
        return Path(rule.pos.file).read_text(encoding="utf-8")
    except OSError as exc:
        return f"# {rule.pos.file}: {exc.strerror or exc}"


def rule_detail(session: Session, rule: Rule) -> RuleDetail:
    today = utcnow().date()
    first = today - timedelta(days=CHART_DAYS - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=utcnow().tzinfo)
    by_day = Counter(when.date() for when in rule_hits(session, rule.id, since))
    hits = [
        ((first + timedelta(days=n)).isoformat(), by_day[first + timedelta(days=n)])
        for n in range(CHART_DAYS)
    ]
    judged = rule_verdicts(session, [rule.id])
    counts = Counter(row.verdict for row in judged)
    proposed = proposals({rule.id: rule}, judged).get(rule.id, Proposal(rule.id))
    return RuleDetail(rule, rule_source(rule), hits, counts, precision(counts), proposed)
