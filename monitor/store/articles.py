"""Articles: the batch insert, the one rule for "do we know this article already", and the
reads that story assignment needs.

An article is known by its guid within its feed, by its canonical URL, or by the hash of its
words, whether it is still stored or was pruned and left its keys in ``forgotten``. The
pipeline asks before storing a batch; the poller asks before fetching full texts, so a page
is never fetched for an item that would then be dropped as a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, insert, update
from sqlmodel import Session, col, func, or_, select

from monitor.models import Article
from monitor.store.jsoncodec import rows_json
from monitor.store.tables import ArticleRow, ForgottenRow

IN_CHUNK = 300  # values in one IN list, well under any driver's limit on parameters


@dataclass(slots=True)
class ArticleRecord:
    """An article row of a batch, as plain data: inserted with the others in one statement,
    then read by story assignment and matching as a stored row would be."""

    external_id: str
    feed: str
    url: str
    canonical_url: str
    content_hash: str
    source: str
    title: str
    text: str
    published: datetime | None
    fetched: datetime
    dated: datetime
    id: int | None = None
    story_id: str | None = None

    def values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _RECORD_COLUMNS}


_RECORD_COLUMNS = [f for f in ArticleRecord.__dataclass_fields__ if f not in ("id", "story_id")]


def insert_articles(session: Session, records: Sequence[ArticleRecord]) -> None:
    """Insert ``records`` in one statement and give each its row id.

    Rows come back in no promised order (promising one makes SQLAlchemy insert them one at a
    time); the records' content hashes must be unique, and say which id is whose.
    """
    if not records:
        return
    table = ArticleRow.__table__
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        inserted = connection.exec_driver_sql(
            _insert_from_json(), (rows_json([r.values() for r in records]),)
        )
    else:
        inserted = session.execute(
            insert(table).returning(table.c.content_hash, table.c.id),
            [record.values() for record in records],
        )
    ids = {digest: article_id for digest, article_id in inserted}
    for record in records:
        record.id = ids[record.content_hash]


@cache
def _insert_from_json() -> str:
    """:func:`insert_articles` on PostgreSQL: the batch as one JSON array of rows, which the
    server reads with ``json_to_recordset``. The statement is then short constant text with one
    parameter, and the rows are written by orjson in C. As rows of VALUES, a batch of 50 was
    550 parameters in a new text each time, which psycopg parsed anew in Python (it caches no
    statement of over 50 parameters) and the server planned anew; as an array a column, psycopg
    still wrote each array element by element in Python. The writer alone, 15,000 items: CPU
    0.32 ms an item as VALUES, 0.28 as arrays, 0.25 as JSON."""
    from sqlalchemy.dialects import postgresql

    names = ", ".join(_RECORD_COLUMNS)
    types = ", ".join(
        f"{name} {ArticleRow.__table__.c[name].type.compile(dialect=postgresql.dialect())}"
        for name in _RECORD_COLUMNS
    )
    return (
        f"INSERT INTO {ArticleRow.__tablename__} ({names}) "
        f"SELECT {names} FROM json_to_recordset(%s::json) AS r({types}) "
        "RETURNING content_hash, id"
    )


@dataclass(slots=True)
class KnownArticles:
    """Guids (per feed), canonical URLs and content hashes already stored or forgotten, read
    for a whole batch at once; :meth:`note` grows it with the batch's own articles, so a
    repeat within the batch is known too."""

    guids: set[tuple[str, str]]
    urls: set[str]
    hashes: set[str]

    def knows(self, article: Article, digest: str = "") -> bool:
        return (
            bool(digest and digest in self.hashes)
            or bool(article.external_id and (article.feed, article.external_id) in self.guids)
            or bool(article.canonical_url and article.canonical_url in self.urls)
        )

    def remember(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """Add stored or forgotten articles' keys: (feed, guid, canonical URL, content hash)."""
        for feed, external_id, canonical, digest in rows:
            self.guids.add((feed, external_id))
            self.urls.add(canonical)
            self.hashes.add(digest)

    def note(self, article: Article, digest: str) -> None:
        self.hashes.add(digest)
        if article.external_id:
            self.guids.add((article.feed, article.external_id))
        if article.canonical_url:
            self.urls.add(article.canonical_url)


def known_articles(
    session: Session, articles: Sequence[Article], digests: Iterable[str] = ()
) -> KnownArticles:
    """Which of ``articles`` (with their content hashes, when the caller has them) the store
    knows already: one query a table, however many articles."""
    known = KnownArticles(set(), set(), set())
    guids: dict[str, set[str]] = {}
    for article in articles:
        if article.external_id:
            guids.setdefault(article.feed, set()).add(article.external_id)
    urls = sorted({a.canonical_url for a in articles if a.canonical_url})
    hashes = sorted({d for d in digests if d})
    if session.connection().dialect.name == "postgresql":
        _known_by_arrays(session, known, guids, urls, hashes)
        return known
    for table in (ArticleRow, ForgottenRow):
        conditions = [
            and_(table.feed == feed, col(table.external_id).in_(chunk))
            for feed, ids in guids.items()
            for chunk in _chunks(sorted(ids))
        ]
        conditions += [col(table.canonical_url).in_(chunk) for chunk in _chunks(urls)]
        conditions += [col(table.content_hash).in_(chunk) for chunk in _chunks(hashes)]
        if not conditions:
            break
        known.remember(
            session.exec(
                select(
                    table.feed, table.external_id, table.canonical_url, table.content_hash
                ).where(or_(*conditions))
            ).all()
        )
    return known


def _known_by_arrays(
    session: Session,
    known: KnownArticles,
    guids: dict[str, set[str]],
    urls: list[str],
    hashes: list[str],
) -> None:
    """:func:`known_articles` on PostgreSQL: one statement of constant text with the keys as
    arrays, which the server plans once and the driver does not parse anew for each batch (an
    IN list of a batch's length is new text every time). A guid is looked up by the feeds and
    guids of the batch together, which may bring back another feed's article of the same guid:
    its own (feed, guid) pair is recorded, so it marks nothing of the batch as known."""
    feeds = sorted(guids)
    ids = sorted({i for found in guids.values() for i in found})
    where = (
        "(feed = ANY(%(feeds)s) AND external_id = ANY(%(ids)s)) "
        "OR canonical_url = ANY(%(urls)s) OR content_hash = ANY(%(hashes)s)"
    )
    columns = "feed, external_id, canonical_url, content_hash"
    rows = session.connection().exec_driver_sql(
        f"SELECT {columns} FROM {ArticleRow.__tablename__} WHERE {where} "
        f"UNION ALL SELECT {columns} FROM {ForgottenRow.__tablename__} WHERE {where}",
        {"feeds": feeds, "ids": ids, "urls": urls, "hashes": hashes},
    )
    known.remember(rows)


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)]


def articles_with_stories_after(
    session: Session, last_id: int
) -> list[tuple[int, str, str, datetime]]:
    """(id, title, text, dated) of the articles past ``last_id`` that have a story, in id
    order: what the story index has not seen yet."""
    return list(
        session.exec(
            select(ArticleRow.id, ArticleRow.title, ArticleRow.text, ArticleRow.dated)
            .where(ArticleRow.id > last_id, col(ArticleRow.story_id).is_not(None))
            .order_by(ArticleRow.id)
        ).all()
    )


def article_words(session: Session, article_id: int) -> str | None:
    """An article's title and text, as stories compare them; None if it is gone."""
    row = session.exec(
        select(ArticleRow.title, ArticleRow.text).where(ArticleRow.id == article_id)
    ).first()
    return None if row is None else f"{row[0]}\n{row[1]}"


def stories_of(session: Session, article_ids: Iterable[int]) -> dict[int, str | None]:
    """Article id -> its story id, for those of ``article_ids`` that are stored."""
    ids = list(article_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(ArticleRow.id, ArticleRow.story_id).where(col(ArticleRow.id).in_(ids))
    ).all()
    return dict(rows)


def set_stories(session: Session, story_of: dict[int, str]) -> None:
    """Write each article's story id, in one statement for the lot."""
    if not story_of:
        return
    table = ArticleRow.__table__
    session.execute(
        update(table)
        .where(table.c.id == bindparam("article_id"))
        .values(story_id=bindparam("story")),
        [{"article_id": a, "story": s} for a, s in story_of.items()],
    )


def stored_articles(session: Session, since: datetime | None = None) -> Iterator[ArticleRow]:
    """Every stored article (dated ``since`` or later), oldest first, read 500 at a time so a
    backtest over a year of news does not hold it all in memory."""
    query = select(ArticleRow).order_by(col(ArticleRow.dated), col(ArticleRow.id))
    if since is not None:
        query = query.where(ArticleRow.dated >= since)
    yield from session.exec(query.execution_options(yield_per=500))


def article_span(session: Session) -> tuple[int, datetime | None]:
    """How many articles are stored, and the date of the newest."""
    count, newest = session.exec(select(func.count(), func.max(ArticleRow.dated))).one()
    return count, newest


def article_summaries(session: Session, article_ids: Sequence[int]) -> dict[int, ArticleRow]:
    """These stored articles by id (their title, source, link and date, for a listing)."""
    rows = session.exec(select(ArticleRow).where(col(ArticleRow.id).in_(list(article_ids)))).all()
    return {row.id: row for row in rows if row.id is not None}
