"""The work on an article's words that needs nothing but the words, done before the writer.

One thread writes every article (dedup, insert, story, rules, alerts in one transaction), so
its time per article bounds a poll. What depends only on an article's headline, text and
source, its content hash, what the event matcher reads of it (:mod:`.events.reading`) and,
in a parser process that holds the rule set, the rules it matches, is worked out where the
feed is parsed (:func:`prepare`), and travels with the :class:`~monitor.models.Article` as
plain data. The writer takes it only if it was made from the words the article still has: a
summary replaced by its page's full text after parsing is read again, by the writer, with the
same functions. Matches are taken only if they were made with the very rule set the writer
holds (:attr:`Matcher.token`): after a reload of the rules, the writer matches again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.detect.events.reading import Reading, content_terms, read_words
from monitor.detect.rules import Matcher
from monitor.detect.rules.model import Rule
from monitor.detect.rules.results import Hit, Match, MatchedSentence
from monitor.models import Article
from monitor.util.text import tokenize

# A match as plain data: the rule's place in the matcher's rules, what it quotes, its hits, and
# the model's probability when the gate's model fired it alone.
Found = tuple[int, tuple[MatchedSentence, ...], tuple[Hit, ...], float | None]


def content_hash(title: str, text: str) -> str:
    """Hash of the words alone, so markup and spacing differences do not make a new article."""
    words = tokenize(f"{title}\n{text}").joined
    return hashlib.sha256(words.encode()).hexdigest()


@dataclass(slots=True)
class Prepared:
    """An article's content hash and reading, with the headline and text they were made of.

    An article that matched no rule joins no story unless every article does
    (``story_scope``), and the writer then needs only its distinct content words for the
    rarity table: ``terms`` stands in for the ``reading``, a third of its cost and a twentieth
    of what it costs the writer to unpickle."""

    title: str
    text: str
    digest: str
    reading: Reading | None = None
    terms: list[str] | None = None  # when there is no reading
    source: str = ""
    matched_with: str | None = None  # the token of the rule set ``found`` was made with
    found: list[Found] | None = None
    vetoed: list[int] | None = None  # places of the rules whose gate held the article back

    def fits(self, article: Article) -> bool:
        # The same string objects when nothing changed them (a pickle keeps the article's
        # text and this one as one object), so the comparison is usually an identity check.
        return self.text == article.text and self.title == article.title


def match_fields(title: str, text: str, source: str) -> dict[str, str]:
    """What the rules see of an article. The title is left out when it is only the opening
    of the text (a headline guessed from the body), which would be matched and quoted twice."""
    own_title = "" if text.startswith(title.rstrip("\u2026")) else title
    return {"title": own_title, "text": text, "source": source}


def prepare(article: Article, matcher: Matcher | None = None, read_all: bool = False) -> Prepared:
    """Work out what the writer needs of ``article``'s words, and attach it to the article;
    with a ``matcher``, the rules it matches too. The event matcher's reading is made for an
    article that matched a rule, or for every one if ``read_all`` (``story_scope: all``); the
    others get their content words only. Without a matcher, whether it matches is not known
    here: the writer reads the few that do itself."""
    title, text = article.title, article.text
    done = Prepared(title, text, content_hash(title, text))
    article.prepared = done
    if matcher is not None:
        done.source = article.source
        vetoed: list[Rule] = []
        matches = matcher.match(match_fields(title, text, article.source), vetoed)
        done.found = [(matcher.place[id(m.rule)], m.sentences, m.hits, m.by_model) for m in matches]
        done.vetoed = [matcher.place[id(rule)] for rule in vetoed]
        done.matched_with = matcher.token
    if read_all or done.found:
        done.reading = read_words(title, text)
    else:
        done.terms = content_terms(title, text)
    return done


def prepare_all(
    articles: Iterable[Article], matcher: Matcher | None = None, read_all: bool = False
) -> None:
    """:func:`prepare` each article. One that raises is left unprepared (the writer reads it,
    and fails it alone if it raises there too), so the rest of its feed is not lost."""
    for article in articles:
        try:
            prepare(article, matcher, read_all)
        except Exception:  # noqa: BLE001 - the writer does the same work and reports it
            article.prepared = None


def _fitting(article: Article) -> Prepared | None:
    done = article.prepared
    return done if done is not None and done.fits(article) else None


def digest_of(article: Article) -> str:
    """The article's content hash: the prepared one if it still fits its words."""
    done = _fitting(article)
    return done.digest if done is not None else content_hash(article.title, article.text)


def reading_of(article: Article) -> Reading | None:
    """What the event matcher read of the article beforehand, if it still fits its words;
    None: the matcher reads it itself, inside the article's transaction, where a text that
    makes reading raise fails that article alone."""
    done = _fitting(article)
    return done.reading if done is not None else None


def terms_of(article: Article) -> list[str] | None:
    """The article's distinct content words, read beforehand, if that still fits its words;
    None: the writer reads them itself."""
    done = _fitting(article)
    if done is None:
        return None
    return list(done.reading.counts) if done.reading is not None else done.terms


def matches_of(article: Article, matcher: Matcher) -> tuple[list[Match], list[Rule]] | None:
    """The rules the article matched beforehand, and those whose gate held it back, if that
    still fits its words and source and was made with ``matcher``'s very rule set (the
    writer's); None: the writer matches it."""
    done = _fitting(article)
    if done is None or done.found is None or done.matched_with != matcher.token:
        return None
    if done.source != article.source:
        return None
    matches = [Match(matcher.rules[n], *found) for n, *found in done.found]
    return matches, [matcher.rules[n] for n in done.vetoed or ()]


def rules_matched(
    parsed: Article, title: str, text: str, source: str, matcher: Matcher
) -> tuple[list[Match], list[Rule]]:
    """The rules a stored article (``title``, ``text``, ``source``) matches, and those whose
    gate held it back: as its parser process found them with ``matcher``, else matched now."""
    found = matches_of(parsed, matcher)
    if found is not None:
        return found
    vetoed: list[Rule] = []
    return matcher.match(match_fields(title, text, source), vetoed), vetoed
