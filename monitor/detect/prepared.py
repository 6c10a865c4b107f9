"""The work on an article's words that needs nothing but the words, done before the writer.

One thread writes every article (dedup, insert, story, rules, alerts in one transaction), so
its time per article bounds a poll. What depends only on an article's headline and text, its
content hash and what the event matcher reads of it (:mod:`.events.reading`), is worked out
where the feed is parsed, in a parser process or a polling thread (:func:`prepare`), and
travels with the :class:`~monitor.models.Article` as plain data. The writer takes it only if
it was made from the words the article still has (:func:`prepared`): a summary replaced by
its page's full text after parsing is read again, by the writer, with the same functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.detect.events.reading import Reading, read_words
from monitor.models import Article
from monitor.util.text import tokenize


def content_hash(title: str, text: str) -> str:
    """Hash of the words alone, so markup and spacing differences do not make a new article."""
    words = tokenize(f"{title}\n{text}").joined
    return hashlib.sha256(words.encode()).hexdigest()


@dataclass(slots=True)
class Prepared:
    """An article's content hash and reading, with the headline and text they were made of."""

    title: str
    text: str
    digest: str
    reading: Reading

    def fits(self, article: Article) -> bool:
        # The same string objects when nothing changed them (a pickle keeps the article's
        # text and this one as one object), so the comparison is usually an identity check.
        return self.text == article.text and self.title == article.title


def prepare(article: Article) -> Prepared:
    """Work out what the writer needs of ``article``'s words, and attach it to the article."""
    title, text = article.title, article.text
    article.prepared = Prepared(title, text, content_hash(title, text), read_words(title, text))
    return article.prepared


def prepare_all(articles: Iterable[Article]) -> None:
    """:func:`prepare` each article. One that raises is left unprepared (the writer reads it,
    and fails it alone if it raises there too), so the rest of its feed is not lost."""
    for article in articles:
        try:
            prepare(article)
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
