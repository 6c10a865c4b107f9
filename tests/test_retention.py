"""Retention: `monitor db prune` deletes old articles no alert cites, keeps alerts and their
sources, and a pruned item that a feed still lists does not come back as news."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import func, select

from monitor.cli import cli
from monitor.detect.pipeline import Pipeline, content_hash
from monitor.detect.rules import Matcher
from monitor.detect.rules.parse import valid_rules
from monitor.service.replay import read_articles
from monitor.service.retention import prune
from monitor.store import Store
from monitor.store.articles import known_articles
from monitor.store.story_edits import StoryEditRow
from monitor.store.tables import (
    AlertRow,
    ArticleRow,
    ArticleVectorRow,
    CitationRow,
    ForgottenRow,
    StoryRow,
    StoryVectorRow,
    utcnow,
)
from tests.conftest import RULES, SEED_FILES
from tests.daemons import filler_rss


def articles():
    """The two seed reports (cited by alerts) and three unrelated ones (cited by none)."""
    from monitor.ingest.parse import parse_feed

    found = [a for path in SEED_FILES for a in read_articles(path)]
    parsed = parse_feed(filler_rss(7), "https://town7.example/feed", {}, "town-7", "Town 7")
    return found + parsed.articles


@pytest.fixture
def aged_store(db_url):
    """A store whose every article and story was fetched 100 days ago."""
    store = Store(db_url)
    # Every article a story, so that the filler's stories are there to be pruned.
    Pipeline(store, Matcher(valid_rules(RULES)), story_scope="all").ingest(articles())
    old = utcnow() - timedelta(days=100)
    with store.session() as session:
        session.execute(update(ArticleRow).values(fetched=old, dated=old))
        session.execute(update(StoryRow).values(first_published=old, last_published=old))
        session.commit()
    yield store
    store.close()


def count(store: Store, table) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_prune_keeps_what_alerts_cite_and_forgets_the_rest(aged_store):
    cited_before = count(aged_store, CitationRow)
    assert count(aged_store, ArticleRow) == 5 and cited_before == 3
    dry = prune(aged_store, timedelta(days=90), dry_run=True)
    assert dry.articles == 3 and count(aged_store, ArticleRow) == 5  # a dry run deletes nothing
    stories_before = count(aged_store, StoryRow)
    report = prune(aged_store, timedelta(days=90))
    assert report.articles == 3
    # the filler items' own stories (however the matcher grouped them), now empty; the seeds'
    # story stays
    assert report.stories == stories_before - 1 >= 1
    assert count(aged_store, StoryRow) == 1
    assert count(aged_store, ArticleVectorRow) == 2  # what the matcher kept goes with them
    assert count(aged_store, StoryVectorRow) == 1
    assert count(aged_store, ArticleRow) == 2  # the two cited seed reports
    assert count(aged_store, CitationRow) == cited_before
    assert count(aged_store, AlertRow) == 2
    assert count(aged_store, ForgottenRow) == 3
    assert prune(aged_store, timedelta(days=90)).articles == 0  # nothing left to do
    # The feed still lists the pruned items: they are known, not news.
    again = Pipeline(aged_store, Matcher(valid_rules(RULES))).ingest(articles())
    assert again.new == 0 and again.duplicates == 5


def test_prune_spares_what_is_younger_than_the_cutoff(aged_store):
    assert prune(aged_store, timedelta(days=120)).articles == 0
    with pytest.raises(ValueError, match="at least 1 day"):
        prune(aged_store, timedelta(hours=2))


def test_db_prune_command(aged_store, db_url):
    runner = CliRunner()
    dry = runner.invoke(cli, ["db", "prune", "--older-than", "90d", "--dry-run", "--db", db_url])
    assert dry.exit_code == 0, dry.output
    assert "would delete 3 article(s)" in dry.output
    done = runner.invoke(cli, ["db", "prune", "--older-than", "90d", "--db", db_url])
    assert done.exit_code == 0, done.output
    assert "deleted 3 article(s)" in done.output
    bad = runner.invoke(cli, ["db", "prune", "--older-than", "soon", "--db", db_url])
    assert bad.exit_code == 2 and "not a duration" in bad.output


def test_the_daemon_prunes_on_its_own_schedule(aged_store, db_url, tmp_path):
    from tests.conftest import ROOT
    from tests.daemons import DaemonProcess

    aged_store.close()
    daemon = DaemonProcess(
        ROOT / "config" / "monitor.yaml",
        tmp_path,
        MONITOR_DATABASE_URL=db_url,
        MONITOR_RETENTION__INTERVAL="1",
    )
    try:
        found = daemon.wait_for(r"retention: deleted (\d+) article")
        assert found.group(1) == "3"
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    store = Store(db_url)
    assert count(store, ArticleRow) == 2 + 8  # the cited pair, and the seed feeds' 8 new items
    store.close()


def test_the_poller_and_the_pipeline_know_a_pruned_item_by_the_same_rule(aged_store):
    """``known_articles`` is the one answer to "do we know this article": stored or pruned,
    by guid within its feed, by canonical URL, or (given the hashes) by its words."""
    listed = articles()
    prune(aged_store, timedelta(days=90))
    keyed = [a for a in listed if a.external_id or a.canonical_url]
    assert len(keyed) == len(listed)
    with aged_store.session() as session:
        known = known_articles(session, listed)  # as the poller asks: no hashes
        assert all(known.knows(a) for a in listed)
        stranger = replace(listed[-1], feed="another-feed", canonical_url="")
        assert not known_articles(session, [stranger]).knows(stranger)  # a guid is per feed
        words = replace(stranger, external_id="")
        digest = content_hash(words.title, words.text)
        assert known_articles(session, [words], [digest]).knows(words, digest)


def test_word_counts_that_faded_to_nothing_are_dropped(db_url):
    """The event matcher's word counts fade by half every 60 days; retention drops the ones
    that faded away (the general prior then weighs such a word as unseen), never the total."""
    from monitor.store.tables import TermCountBatchRow, TermCountRow

    store = Store(db_url)
    try:
        Pipeline(store, Matcher(valid_rules(RULES))).ingest(articles())
        assert count(store, TermCountBatchRow) == 1  # the batch's counts, not yet folded
        assert prune(store, timedelta(days=90)).words == 0  # all fresh: kept, and folded in
        assert count(store, TermCountBatchRow) == 0
        words = count(store, TermCountRow)
        assert words > 1
        later = prune(store, timedelta(days=90), now=utcnow() + timedelta(days=400))
        assert later.words == words - 1 and "faded word count(s)" in later.summary()
        assert count(store, TermCountRow) == 1  # the articles' total stays
    finally:
        store.close()


def test_story_edits_go_once_both_their_stories_are_gone_but_the_newest_stays(aged_store):
    """An analyst's merge or split is kept while either of its stories is; the newest edit is
    kept whatever its age, so edit numbers never restart under the story indexes."""
    old = utcnow() - timedelta(days=100)
    with aged_store.session() as session:
        seed_story = session.exec(select(AlertRow.story_id)).first()  # kept: cited
        session.add_all(
            [
                StoryEditRow(story_id="st-gone-a", other_story="st-gone-b", created=old),
                StoryEditRow(story_id=seed_story, other_story="st-gone-c", created=old),
                StoryEditRow(story_id="st-gone-d", other_story="st-gone-e", created=utcnow()),
                StoryEditRow(story_id="st-gone-f", other_story="st-gone-g", created=old),
            ]
        )
        session.commit()
    report = prune(aged_store, timedelta(days=90))
    assert report.edits == 1 and "1 story edit(s) of stories gone" in report.summary()
    with aged_store.session() as session:
        left = session.exec(select(StoryEditRow.story_id).order_by(StoryEditRow.id)).all()
    # the seeds' story is still stored; the recent edit is younger than the cutoff; the
    # last one is the newest edit
    assert left == [seed_story, "st-gone-d", "st-gone-f"]
