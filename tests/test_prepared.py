"""Words read where a feed is parsed give the writer exactly what it would have read itself.

A parser process prepares each article's content hash, what the event matcher reads of it and
the rules it matches (monitor.detect.prepared); the writer takes that only while the article
still has the words it was made of, and matches only while it holds the same rule set. Stored
articles, stories, alerts and outbox rows are the same either way.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

from monitor.detect.events.reading import read_words
from monitor.detect.events.terms import _SEPARATORS, words_of
from monitor.detect.prepared import (
    content_hash,
    digest_of,
    match_fields,
    matches_of,
    prepare,
    prepare_all,
    reading_of,
    terms_of,
)
from monitor.detect.rules import Matcher
from monitor.ingest import workers
from monitor.models import Article
from monitor.service.cycle import Service, compile_rules
from monitor.util.text import tokenize
from tests.conftest import RULES
from tests.poison import POISON, PoisonMatcher
from tests.test_ingest_batch import fixture_batches, generated_batches, replay

TYPOGRAPHIC = (
    "\u201cThe tanker \u2018Yuk Tung\u2019 \u2014 seen off Nampo\u201d \u2026 it carried "
    "1,500 tonnes \u2013 officials said \u00ab no \u00bb \u2022 \u00a3200 \u00b0C"
)


def test_prepared_articles_store_and_alert_what_unprepared_ones_do(tmp_path: Path) -> None:
    generated = generated_batches()
    rounds = [fixture_batches() + generated[:2], generated[2:], fixture_batches()]
    prepared_rounds = pickle.loads(pickle.dumps(rounds))
    for batches in prepared_rounds:
        for articles in batches:
            prepare_all(articles)
    # As a parser process hands them over: pickled, the words and the preparation together.
    prepared_rounds = pickle.loads(pickle.dumps(prepared_rounds))
    assert all(a.prepared is not None for b in prepared_rounds for f in b for a in f)
    # One article's text replaced after it was prepared, as a page's full text replaces a
    # summary: its preparation no longer fits and the writer reads it afresh.
    changed = prepared_rounds[1][0][0]
    changed.text += " The tanker Wise Honest was later seen off Nampo."
    rounds[1][0][0].text = changed.text
    assert reading_of(changed) is None

    plain = replay(f"sqlite:///{tmp_path / 'plain.db'}", 200, rounds)
    prepared = replay(f"sqlite:///{tmp_path / 'prepared.db'}", 200, prepared_rounds)

    assert plain["alerts"] and plain["stories"]
    for table in plain:
        assert prepared[table] == plain[table], table


def test_articles_matched_in_a_parser_process_alert_as_the_writer_would(tmp_path: Path) -> None:
    generated = generated_batches()
    rounds = [fixture_batches() + generated[:2], generated[2:], fixture_batches()]
    copied = pickle.loads(pickle.dumps(rounds))

    def matched_beside(service: Service) -> None:
        # What a parser process does: start with the writer's rules, sent pickled.
        workers.load_rules((service.matcher.token, pickle.dumps(service.matcher.rules)))
        try:
            for batches in copied:
                for articles in batches:
                    prepare_all(articles, workers._rules)
        finally:
            workers.load_rules(None)
        carried = pickle.loads(pickle.dumps(copied))  # handed over as from a worker
        copied[:] = carried
        prepared = [a.prepared for b in copied for f in b for a in f]
        assert all(p is not None and p.matched_with == service.matcher.token for p in prepared)
        assert any(p.found for p in prepared)  # some alert comes from a prepared match
        # Read for the event matcher: those that matched a rule; the rest, their words only.
        assert all((p.reading is not None) == bool(p.found) for p in prepared)
        assert all(p.terms is not None for p in prepared if not p.found)

        # The writer takes those matches: it matches nothing itself.
        def match(fields):
            writer_matched.append(fields)
            return []

        service.pipeline.matcher.match = match

    writer_matched: list = []
    plain = replay(f"sqlite:///{tmp_path / 'plain.db'}", 200, rounds)
    prepared = replay(f"sqlite:///{tmp_path / 'prepared.db'}", 200, copied, matched_beside)
    assert writer_matched == []
    assert plain["alerts"]
    for table in plain:
        assert prepared[table] == plain[table], table


def test_prepared_matches_are_taken_only_with_the_same_rule_set_and_words() -> None:
    matcher = compile_rules(RULES)
    article = Article(
        title="Workers sent abroad",
        text="North Korean workers were issued new work permits in Russia, officials said.",
        source="wire",
    )
    prepare(article, matcher)
    taken, vetoed = matches_of(article, matcher)
    made = matcher.match(match_fields(article.title, article.text, article.source))
    assert vetoed == []
    assert taken and [m.rule.id for m in taken] == [m.rule.id for m in made]
    assert [(m.sentences, m.hits) for m in taken] == [(m.sentences, m.hits) for m in made]
    assert all(t.rule is m.rule for t, m in zip(taken, made, strict=True))  # the writer's rules
    # The same rules reloaded are another rule set: the writer matches again.
    assert matches_of(article, Matcher(matcher.rules)) is None
    article.source = "another wire"  # the source a rule may test changed after parsing
    assert matches_of(article, matcher) is None
    article.source = "wire"
    article.text += " A tanker was seen off Nampo."
    assert matches_of(article, matcher) is None and reading_of(article) is None
    unmatched = Article(title="t", text="Nothing here.", source="s")
    prepare(unmatched)  # prepared without rules: the writer matches it
    assert matches_of(unmatched, matcher) is None


def test_an_article_the_rules_trip_on_is_left_to_the_writer_and_the_rest_are_prepared():
    articles = [
        Article(title="One", text="North Korean workers were sent to Russia.", source="s"),
        Article(title="Two", text=f"A strange entry: {POISON}.", source="s"),
        Article(title="Three", text="A tanker was seen off Nampo.", source="s"),
    ]
    matcher = PoisonMatcher()
    prepare_all(articles, matcher)
    assert articles[1].prepared is None  # the writer reads and matches it, failing it alone
    assert all(matches_of(a, matcher) is not None for a in (articles[0], articles[2]))


def test_a_preparation_is_taken_only_while_it_fits_the_words() -> None:
    article = Article(title="Tanker seized", text="The tanker Yuk Tung was seized.", source="s")
    assert reading_of(article) is None  # nothing prepared: the matcher reads it itself
    done = prepare(article)
    assert reading_of(article) is done.reading and digest_of(article) == done.digest
    article.title = "Tanker Yuk Tung seized off Nampo"
    assert reading_of(article) is None
    assert digest_of(article) == content_hash(article.title, article.text) != done.digest


def test_a_prepared_reading_is_what_the_writer_would_read() -> None:
    article = Article(title="Tanker \u2018Yuk Tung\u2019 seized", text=TYPOGRAPHIC, source="s")
    prepare(article, read_all=True)
    carried = pickle.loads(pickle.dumps(article))
    fresh = read_words(article.title, article.text)
    reading = reading_of(carried)
    assert reading is not None
    assert list(reading.counts.items()) == list(fresh.counts.items())  # order too: it sums
    assert (reading.vessels, reading.main) == (fresh.vessels, fresh.main) == ({"yuk tung"},) * 2
    assert reading.words.spaced == fresh.words.spaced


def test_the_content_words_alone_are_the_words_a_reading_counts() -> None:
    """An article that matched no rule is prepared with its content words only, which count
    in the rarity table exactly as its reading's would."""
    from tests.test_story_corpus import RECORDS

    texts = [("Tanker \u2018Yuk Tung\u2019 seized", TYPOGRAPHIC)]
    texts += [(r["title"], r["text"]) for r in RECORDS[::7]]
    for title, text in texts:
        article = Article(title=title, text=text, source="s")
        prepare(article)
        carried = pickle.loads(pickle.dumps(article))
        assert reading_of(carried) is None
        assert sorted(terms_of(carried) or []) == sorted(read_words(title, text).counts)


def test_typographic_punctuation_cuts_words_as_the_tokenizer_does() -> None:
    """words_of turns quotes and dashes into spaces to take the tokenizer's ASCII path; that
    gives the tokenizer's own words, and only characters that are no part of a word are so
    replaced."""
    for text in (
        TYPOGRAPHIC,
        "Caf\u00e9 \u2014 na\u00efve \u201cquote\u201d",
        "\u671d\u9c9c \u2014 x",
    ):
        assert words_of(text) == tokenize(re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)).joined.split()
    assert words_of(TYPOGRAPHIC)[:4] == ["the", "tanker", "yuk", "tung"]
    assert "1500" in words_of(TYPOGRAPHIC)
    for code in _SEPARATORS:
        assert not re.match(r"[^\W_]", chr(code)), hex(code)
