"""Articles that failed to store: counted per attempt, then quarantined.

An item that raises while being stored (a text the database refuses, a bug a strange entry
trips) used to abort the rest of its feed, at every poll, forever. Now it fails alone: the
others are stored, the item is retried at the next polls, and after ``QUARANTINE_AFTER``
attempts it is skipped and shown (``monitor feeds list``, ``monitor status``, a gauge) until an
operator releases it with ``monitor feeds retry``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, col, select

from monitor.models import Article
from monitor.store.db import Store
from monitor.store.tables import ArticleFailureRow, FeedState

QUARANTINE_AFTER = 3  # attempts; one or two may be a passing fault of the store or the host


def failure_key(article: Article, digest: str) -> str:
    """What names an item across polls: its guid, else its canonical URL, else its words."""
    return article.external_id or article.canonical_url or f"sha256:{digest}"


def store_fault(exc: BaseException) -> bool:
    """True when the store itself failed (unreachable, locked, connection lost): the whole
    feed's poll fails and is retried, and no article is blamed for it."""
    return (
        isinstance(exc, DBAPIError)
        and not isinstance(exc, IntegrityError)
        and (
            exc.connection_invalidated
            or type(exc).__name__ in ("OperationalError", "InterfaceError", "DisconnectionError")
        )
    )


def known_failures(
    session: Session, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], bool]:
    """(feed, key) -> quarantined, for those of ``pairs`` that failed before."""
    pairs = list(pairs)
    found: dict[tuple[str, str], bool] = {}
    keys = sorted({key for _, key in pairs})
    for start in range(0, len(keys), 400):
        rows = session.exec(
            select(
                ArticleFailureRow.feed, ArticleFailureRow.key, ArticleFailureRow.quarantined
            ).where(col(ArticleFailureRow.key).in_(keys[start : start + 400]))
        ).all()
        found.update({(feed, key): quarantined for feed, key, quarantined in rows})
    wanted = set(pairs)
    return {pair: q for pair, q in found.items() if pair in wanted}


def record_failure(
    store: Store, article: Article, key: str, error: str, now: datetime
) -> ArticleFailureRow:
    """Count one more failed attempt at storing ``article``; quarantine it at the limit."""
    with store.session() as session:
        row = session.exec(
            select(ArticleFailureRow).where(
                ArticleFailureRow.feed == article.feed, ArticleFailureRow.key == key
            )
        ).first()
        if row is None:
            row = ArticleFailureRow(feed=article.feed, key=key, first_failed=now)
        row.title, row.url = article.title[:300], article.url
        row.attempts += 1
        row.error = error[:1000]
        row.last_failed = now
        row.quarantined = row.attempts >= QUARANTINE_AFTER
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def clear_failure(session: Session, feed: str, key: str) -> None:
    """The item was stored at last: it no longer counts against its feed."""
    session.execute(
        delete(ArticleFailureRow).where(
            col(ArticleFailureRow.feed) == feed, col(ArticleFailureRow.key) == key
        )
    )


def failures_by_feed(session: Session) -> dict[str, list[ArticleFailureRow]]:
    """Every failing or quarantined item, by feed, the latest failure first."""
    rows = session.exec(
        select(ArticleFailureRow).order_by(col(ArticleFailureRow.last_failed).desc())
    ).all()
    found: dict[str, list[ArticleFailureRow]] = {}
    for row in rows:
        found.setdefault(row.feed, []).append(row)
    return found


def quarantined_count(session: Session) -> int:
    return session.exec(
        select(func.count()).where(col(ArticleFailureRow.quarantined).is_(True))
    ).one()


def release(store: Store, feed: str) -> int:
    """Let a feed's quarantined items be tried again, from the next poll (which fetches the
    feed afresh: its validators are forgotten). Returns how many items were released."""
    with store.session() as session:
        result = session.execute(
            delete(ArticleFailureRow).where(col(ArticleFailureRow.feed) == feed)
        )
        session.execute(
            update(FeedState)
            .where(col(FeedState.name) == feed)
            .values(etag="", last_modified="", body_hash="", next_poll=None)
        )
        session.commit()
        return result.rowcount
