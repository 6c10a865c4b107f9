"""Batched ingest stores and alerts exactly what one article per transaction did (issue #15).

The same feeds go through both paths into two SQLite stores, and every row that matters
(articles, stories, alerts, citations, outbox) is compared without ids or timestamps. The
generated feeds hold what a batch could get wrong: a second report of a story inside the same
batch (it must join the first, still uncommitted, one), reports that join stories of earlier
batches, and duplicates within one batch by guid, by canonical URL and by words.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlmodel import select

from monitor.detect.events.index import StoryEntry, query_keys
from monitor.detect.pipeline import Pipeline
from monitor.detect.rules import Matcher
from monitor.detect.stories import StoryIndex
from monitor.ingest.parse import parse_feed
from monitor.models import Article
from monitor.service.cycle import Service, compile_rules
from monitor.service.replay import read_articles
from monitor.store import Store
from monitor.store.articles import ArticleRecord, insert_articles
from monitor.store.feeds import ensure_feed_rows
from monitor.store.retention import forget_articles
from monitor.store.tables import (
    AlertRow,
    ArticleFailureRow,
    ArticleRow,
    CitationRow,
    FeedState,
    NotificationRow,
    StoryRow,
    utcnow,
)
from tests.conftest import ROOT, RULES, SEED_FILES, ConsoleCapture, make_settings
from tests.poison import POISON, PoisonMatcher

FEED_FILES = sorted((ROOT / "seeds" / "feeds").iterdir()) + sorted(
    (ROOT / "tests" / "fixtures" / "feeds").iterdir()
)
WORDS = (
    "port ship cargo vessel harbour grain rice oil fuel tanker price market trade minister "
    "official report said week year month government talks border river city province farm "
    "factory permit visa bank fund loan council committee inquiry shipment customs coast navy"
).split()
HOOKS = [
    "North Korean workers were issued new work permits in Russia, officials said.",
    "A tanker carried out a ship-to-ship transfer of oil to a North Korean vessel.",
    "A North Korean front company used a Hong Kong bank account to evade sanctions.",
]


def fixture_batches() -> list[list[Article]]:
    """The seed and fixture feeds, parsed as the poller parses them, one batch a feed."""
    batches = []
    for path in FEED_FILES:
        content_type = "application/json" if path.suffix == ".json" else "application/xml"
        parsed = parse_feed(
            path.read_bytes(),
            f"https://feeds.example/{path.name}",
            {"Content-Type": content_type},
            path.stem,
        )
        batches.append(parsed.articles)
    batches.append([a for path in SEED_FILES for a in read_articles(path)])
    return batches


def generated_batches(feeds: int = 4, items: int = 30) -> list[list[Article]]:
    """Feeds whose reports retell each other's stories, within and across batches."""
    rng = random.Random(1718)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    told: list[tuple[str, str, datetime]] = []  # stories told so far: title, text, when
    batches = []
    for f in range(feeds):
        batch: list[Article] = []
        for i in range(items):
            if told and rng.random() < 0.3:  # a retelling: most words kept, a few changed
                title, text, when = rng.choice(told)
                words = text.split()
                for _ in range(len(words) // 10):
                    words[rng.randrange(len(words))] = rng.choice(WORDS)
                text = " ".join(words)
                when += timedelta(hours=rng.randint(1, 30))
            else:
                sentences = [
                    " ".join(rng.choices(WORDS, k=12)).capitalize() + "." for _ in range(6)
                ]
                if rng.random() < 0.3:
                    sentences.insert(2, rng.choice(HOOKS))
                title = " ".join(rng.choices(WORDS, k=6)).capitalize()
                text = " ".join(sentences)
                when = start + timedelta(hours=rng.randint(0, 24 * 20))
                told.append((title, text, when))
            batch.append(
                Article(
                    title=title,
                    text=text,
                    source=f"Outlet {f}",
                    url=f"https://outlet{f}.example/{i}",
                    canonical_url=f"https://outlet{f}.example/{i}",
                    external_id=f"o{f}-{i}",
                    published=when if i % 7 else None,
                    feed=f"outlet{f}",
                )
            )
        first = batch[0]
        batch += [  # the same item again within the batch: by guid, by URL, by words
            Article(title="Other", text="Other words.", source="x", external_id=first.external_id,
                    feed=first.feed),
            Article(title="Again", text="Again other words.", source="x",
                    canonical_url=first.canonical_url, feed=first.feed),
            Article(title=first.title, text=first.text, source="x", feed=first.feed),
        ]  # fmt: skip
        batches.append(batch)
    return batches


def replay(
    db_url: str,
    batch: int,
    rounds: list[list[list[Article]]],
    before: Callable[[Service], None] | None = None,
    story_scope: str = "matched",
) -> dict[str, list]:
    """Ingest ``rounds`` of feed batches as the service does (one ingest a feed, then the
    outbox), and read back everything that must not depend on the batching. ``before`` sees
    the service first (to prepare the articles with its rules, as a parser process would)."""
    settings = make_settings(db_url, [], story_scope=story_scope)
    service = ConsoleCapture(settings).service()
    service.pipeline.batch = batch
    if before is not None:
        before(service)
    for batches in rounds:
        changed: list[str] = []
        for articles in batches:
            result = service.pipeline.ingest(articles)
            assert result.failed == 0, result.errors
            changed += [a for a in result.changed_alerts if a not in changed]
        service.notify(changed)
    rows = snapshot(service)
    service.close()
    return rows


def snapshot(service: Service) -> dict[str, list]:
    with service.store.session() as session:
        articles = session.exec(select(ArticleRow)).all()
        key = {a.id: (a.feed, a.external_id, a.canonical_url, a.content_hash) for a in articles}
        undated = {a.id for a in articles if a.published is None}
        members: dict[str, list] = {}
        for a in articles:
            members.setdefault(a.story_id, []).append(key[a.id])
        return {
            "articles": sorted(
                (*key[a.id], a.url, a.source, a.title, a.text, a.published, a.story_id)
                for a in articles
            ),
            "stories": sorted(
                (s.id, s.headline, sorted(members.get(s.id, [])))
                + (
                    ()
                    if any(undated & {a.id for a in articles if a.story_id == s.id})
                    else (s.first_published, s.last_published)
                )
                for s in session.exec(select(StoryRow)).all()
            ),
            "alerts": sorted(
                (
                    a.id,
                    a.rule_id,
                    a.story_id,
                    a.title,
                    a.severity,
                    a.tags,
                    sorted(a.labels.items()),
                    a.rule_version,
                    a.revision,
                    a.queued,
                )
                for a in session.exec(select(AlertRow)).all()
            ),
            "citations": sorted(
                (c.alert_id, key[c.article_id], c.rule_version, repr(c.sentences))
                for c in session.exec(select(CitationRow)).all()
            ),
            "outbox": sorted(
                (n.key, n.story_id, n.channel, n.kind, sorted(n.alerts.items()), n.state)
                for n in session.exec(select(NotificationRow)).all()
            ),
        }


@pytest.mark.parametrize(
    ("store_kind", "scope"), [("sqlite", "matched"), ("sqlite", "all"), ("postgresql", "matched")]
)
def test_batched_and_one_by_one_store_and_alert_the_same(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
    store_kind: str,
    scope: str,
) -> None:
    def url(name: str) -> str:
        if store_kind == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        return request.getfixturevalue("pg_urls")()

    generated = generated_batches()
    rounds = [fixture_batches() + generated[:2], generated[2:], fixture_batches()]
    caplog.set_level(logging.INFO, logger="monitor.detect.pipeline")
    batched = replay(url("batched"), 200, rounds, story_scope=scope)
    # Batches that raised would be stored one by one, and compare equal: none may have.
    assert "one by one" not in caplog.text
    single = replay(url("single"), 1, rounds, story_scope=scope)
    # A batch small enough to split feeds: stories must join across batch boundaries too.
    split = replay(url("split"), 7, rounds, story_scope=scope)
    # Which articles have a story is the scope's: all of them, or just those that alerted.
    with_story = [row for row in single["articles"] if row[-1] is not None]
    assert with_story and (len(with_story) == len(single["articles"])) == (scope == "all")

    # The cases worth comparing are there: a story told twice within one feed's batch, alerts
    # with several sources, and notifications.
    same_feed_story = any(
        len(members) > len({feed for feed, *_ in members})
        for _, _, members, *_ in single["stories"]
    )
    assert same_feed_story
    assert any(revision > 1 for *_, revision, _queued in single["alerts"])
    assert single["outbox"]
    for table in single:
        assert batched[table] == single[table], table
        assert split[table] == single[table], table


def test_a_poisoned_entry_in_a_batch_fails_alone(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    capture = ConsoleCapture(make_settings(db_url, []))
    service = capture.service()
    # Every article a story, so that the index is seen to hold exactly what was stored.
    pipeline = Pipeline(service.store, PoisonMatcher(), metrics=service.metrics, story_scope="all")
    batch = generated_batches(feeds=1, items=12)[0]
    for article in batch:  # all within the story window, so the index keeps every one
        article.published = None
    poisoned = batch[5]
    poisoned.text += f" {POISON}"

    caplog.set_level(logging.INFO, logger="monitor.detect.pipeline")
    result = pipeline.ingest(batch)

    assert "a batch of 15 article(s) raised (ValueError" in caplog.text
    assert result.failed == 1 and result.new == 11, result
    assert result.duplicates == 3  # the three repeats of the first item
    assert poisoned.title[:80] in result.errors[0]
    with service.store.session() as session:
        stored = session.exec(select(ArticleRow.external_id)).all()
        failure = session.exec(select(ArticleFailureRow)).one()
        stories = {s for s in session.exec(select(ArticleRow.story_id)).all()}
    assert poisoned.external_id not in stored and len(stored) == 11
    assert (failure.key, failure.attempts) == (poisoned.external_id, 1)
    assert None not in stories
    # The rolled-back batch counted nothing: only what the one-by-one pass stored is counted,
    # and the story index holds exactly the stored articles.
    assert service.metrics.articles._value.get() == 11
    assert service.metrics.duplicates._value.get() == 3
    assert len(pipeline.stories) == 11

    # At the next poll the others are known and the poisoned one fails again, alone.
    again = pipeline.ingest(batch)
    assert (again.new, again.failed, again.duplicates) == (0, 1, 14)
    service.close()


def test_a_rollback_gives_back_what_its_articles_pushed_out_of_the_story_window() -> None:
    index = StoryIndex(horizon=timedelta(days=15))
    old = datetime(2024, 1, 1, tzinfo=UTC)
    vector = {"chon": 0.6, "ma": 0.5, "san": 0.5, "nampo": 0.4}

    def story(key: str, dated: datetime, article: int) -> StoryEntry:
        # Arrived when dated: the index forgets by arrival, and 40 days pass between the two.
        return StoryEntry(key, dict(vector), frozenset(), dated, dated, 1, article, seen=dated)

    index.events.put(story("st-1", old, 1))
    index.stage(story("st-2", old + timedelta(days=40), 2))
    assert [e.id for e in index.events.candidates(query_keys(vector, []))] == ["st-2"]

    index.rollback()

    assert [e.id for e in index.events.candidates(query_keys(vector, []))] == ["st-1"]
    assert len(index) == 1
    index.stage(story("st-3", old + timedelta(days=1), 2))  # the article id, reused
    index.commit()
    found = sorted(e.id for e in index.events.candidates(query_keys(vector, [])))
    assert found == ["st-1", "st-3"]


def test_a_batch_is_known_by_guid_in_its_feed_by_url_and_by_words_on_each_store(
    store: Store,
) -> None:
    """The dedup lookup is one statement a batch on each store (IN lists on SQLite, arrays on
    PostgreSQL): the same answers either way, pruned articles included."""

    def item(n: int, feed: str, guid: str, url: str = "") -> Article:
        return Article(
            title=f"Report {n}",
            text=f"Grain prices moved in district {n} on market day.",
            source="Wire",
            feed=feed,
            external_id=guid,
            url=url,
            canonical_url=url,
        )

    pipeline = Pipeline(store, Matcher([]))
    first = [item(1, "f1", "g1"), item(2, "f1", "g2", "https://a.example/2"), item(3, "f2", "")]
    assert pipeline.ingest(first).new == 3
    again = [
        item(11, "f1", "g1"),  # the same guid in the same feed
        item(12, "f2", "g2"),  # the same guid in another feed: news
        item(13, "f3", "x", "https://a.example/2"),  # the same canonical URL, another feed
        item(3, "f3", "y"),  # the same headline and words
        item(15, "f3", "z"),  # new
    ]
    result = pipeline.ingest(again)
    assert (result.new, result.duplicates) == (2, 3)
    with store.session() as session:
        stored = set(session.exec(select(ArticleRow.feed, ArticleRow.external_id)).all())
        assert {("f2", "g2"), ("f3", "z")} <= stored
        # Pruned articles leave their keys behind, and stay known.
        later = utcnow() + timedelta(seconds=1)
        assert forget_articles(session, later, later, 100) == 5
        session.commit()
    assert pipeline.ingest(first + again).duplicates == 8


# -- the caller's work in the batch's transaction (a poll's record) ------------------------


def _finish_marking(store: Store, seen: list[tuple[int, int]]) -> Callable:
    """A ``finish`` that writes what it was told into the feed's row, as a poll's record
    does, and notes how many articles it saw from inside the transaction."""
    ensure_feed_rows(store, [("wire", "https://wire.example/feed")])

    def finish(session, new: int) -> bool:
        seen.append((new, session.exec(select(func.count()).select_from(ArticleRow)).one()))
        session.execute(update(FeedState).where(FeedState.name == "wire").values(items_seen=new))
        return True

    return finish


def _items_seen(store: Store) -> int:
    with store.session() as session:
        return session.exec(select(FeedState.items_seen)).one()


def test_finish_runs_in_the_transaction_that_stores_the_batch(db_url: str) -> None:
    store = Store(db_url)
    seen: list[tuple[int, int]] = []
    pipeline = Pipeline(store, compile_rules(RULES))
    result = pipeline.ingest(generated_batches(feeds=1, items=12)[0], _finish_marking(store, seen))
    assert result.finished is True and result.new == 12
    assert seen == [(12, 12)]  # it saw the batch's articles, not yet committed
    assert _items_seen(store) == 12
    store.close()


def test_a_batch_that_rolls_back_takes_the_finish_with_it(db_url: str) -> None:
    """The poisoned article rolls its batch back before ``finish`` runs; the others are stored
    one by one, and ``finished`` is None: the caller records the poll itself."""
    store = Store(db_url)
    seen: list[tuple[int, int]] = []
    batch = generated_batches(feeds=1, items=12)[0]
    batch[5].text += f" {POISON}"
    result = Pipeline(store, PoisonMatcher()).ingest(batch, _finish_marking(store, seen))
    assert (result.new, result.failed, result.finished, seen) == (11, 1, None, [])
    assert _items_seen(store) == 0
    store.close()


def test_a_finish_that_raises_loses_no_article_and_leaves_no_half_write(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """It rolls its batch back, half-written row included; the articles, not to blame, are
    stored again as one batch without it (one more transaction, not one an article), and the
    caller, told it did not run, does that work alone."""
    store = Store(db_url)
    marking = _finish_marking(store, [])

    def finish(session, new: int) -> bool:
        marking(session, new)
        raise RuntimeError("learning this feed's rhythm failed")

    pipeline = Pipeline(store, compile_rules(RULES))
    transactions = []
    stored_alone = pipeline._transaction

    def counted(session, items, hook=None):
        transactions.append(len(items))
        return stored_alone(session, items, hook)

    pipeline._transaction = counted
    batch = generated_batches(feeds=1, items=12)[0]  # 12 articles and a few repeats
    with caplog.at_level(logging.INFO, logger="monitor.detect.pipeline"):
        result = pipeline.ingest(batch, finish)
    assert (result.new, result.failed, result.finished) == (12, 0, None)
    # The batch, then the batch again without the hook: no article went alone.
    assert transactions == [len(batch), len(batch)]
    assert "the poll's record raised" in caplog.text and "one by one" not in caplog.text
    assert _items_seen(store) == 0
    with store.session() as session:
        assert session.exec(select(func.count()).select_from(ArticleRow)).one() == 12
    store.close()


def test_articles_that_take_several_transactions_leave_the_finish_to_the_caller(
    db_url: str,
) -> None:
    store = Store(db_url)
    seen: list[tuple[int, int]] = []
    pipeline = Pipeline(store, compile_rules(RULES), batch=5)
    result = pipeline.ingest(generated_batches(feeds=1, items=12)[0], _finish_marking(store, seen))
    assert (result.new, result.finished, seen) == (12, None, [])
    store.close()


def test_a_batch_insert_stores_every_field_as_given_on_each_store(store: Store) -> None:
    """PostgreSQL takes a batch as JSON rows (json_to_recordset): quotes, backslashes, line
    breaks, non-Latin text, a missing date and microseconds must come back as they went in."""
    when = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    odd = 'He said "no" \\ then\nleft; 北朝鮮 — «tanker» \t {"json": [1]}'
    records = [
        ArticleRecord(
            external_id=f"g{n}",
            feed="wire",
            url=f"https://wire.example/{n}?a=1&b='2'",
            canonical_url=f"https://wire.example/{n}",
            content_hash=f"{n:064x}",
            source="Wire",
            title=f"{odd} {n}",
            text=odd * (n + 1),
            published=None if n == 1 else when + timedelta(days=n),
            fetched=when,
            dated=when + timedelta(days=n),
        )
        for n in range(3)
    ]
    with store.session() as session:
        insert_articles(session, records)
        session.commit()
    with store.session() as session:
        rows = {r.id: r for r in session.exec(select(ArticleRow)).all()}
    assert sorted(rows) == sorted(r.id for r in records)
    for record in records:
        row = rows[record.id]
        for name in ("external_id", "url", "canonical_url", "content_hash", "title", "text"):
            assert getattr(row, name) == getattr(record, name), name
        for name in ("published", "fetched", "dated"):
            stored, given = getattr(row, name), getattr(record, name)
            if stored is not None and stored.tzinfo is None:  # SQLite keeps no zone: UTC
                stored = stored.replace(tzinfo=UTC)
            assert stored == given, name


def test_a_json_feed_entry_with_nul_characters_is_stored_on_each_store(store: Store) -> None:
    """JSON may carry "\\u0000", which PostgreSQL's text cannot hold: such an entry used to
    fail there for good (and be quarantined). The readers drop NUL, whatever markup held it."""
    item = {
        "id": "n1",
        "url": "https://wire.example/n1",
        "title": "Tanker\u0000 seen",
        "content_text": "A ship-to-ship\u0000 transfer of oil to a North Korean vessel.",
        "date_published": "2026-03-01T09:30:00Z",
    }
    html = dict(item, id="n2", url="https://wire.example/n2", content_text=None)
    html["content_html"] = "<p>Coal\u0000 was shipped to a port in China.</p>"
    body = json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Wire", "items": [item, html]}
    ).encode()
    parsed = parse_feed(body, "https://wire.example/feed.json", {}, "wire")
    assert all("\x00" not in a.title + a.text for a in parsed.articles)
    result = Pipeline(store, compile_rules(RULES)).ingest(parsed.articles)
    assert (result.new, result.failed) == (2, 0)
    with store.session() as session:
        texts = sorted(session.exec(select(ArticleRow.text)).all())
    assert texts == [
        "A ship-to-ship transfer of oil to a North Korean vessel.",
        "Coal was shipped to a port in China.",
    ]
