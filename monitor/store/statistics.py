"""PostgreSQL's table statistics while a store fills from empty.

The planner reads a query's cost off each table's statistics, which autovacuum gathers once a
table has grown by a tenth since it last looked, checking about once a minute. A store that
fills from nothing (a new deployment's first poll, an OPML import) goes without them for that
minute and more, and then takes the dedup lookup's ``= ANY(array)`` of a batch's 50 content
hashes for half the table: a sequential scan of every article for every batch, 12 ms a batch
at 15,000 articles against 1.6 ms once the statistics exist. So the writer gathers them itself
each time the table doubles, from a thousand articles on: a handful of times in a cold start,
then ever more rarely (the twentieth after half a billion), each a bounded sample (PostgreSQL
reads at most 30,000 rows, some 100 to 450 ms on a large table). The table's size at the start
is what its statistics last counted: a process that starts on a store of a million articles,
whose statistics autovacuum keeps, refreshes nothing until it has stored a million more
(counting from its own first thousand, it spent a second a few thousand articles in).
SQLite plans without such statistics and is left alone.
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from monitor.store.db import Store
from monitor.store.tables import ArticleRow, ForgottenRow

log = logging.getLogger(__name__)
FIRST_AT = 1_000  # articles stored before the first refresh

_TABLES = (ArticleRow.__tablename__, ForgottenRow.__tablename__)


class Statistics:
    """Counts the articles this process stored, and refreshes the statistics each time the
    table has doubled since they were last gathered."""

    def __init__(self, store: Store, first_at: int = FIRST_AT) -> None:
        self.store = store
        self.stored = 0
        self.next_at = first_at
        self.refreshed = 0  # how many times, for tests and the debug log
        self.enabled = store.engine.dialect.name == "postgresql"
        self.counted: int | None = None  # articles the statistics counted when this began

    def _counted_at_start(self) -> int:
        """How many articles the table's statistics count (0 if never gathered)."""
        try:
            with self.store.session() as session:
                rows = session.execute(
                    text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"),
                    {"table": ArticleRow.__tablename__},
                ).scalar()
        except Exception:  # noqa: BLE001 - then counted from empty, as before
            log.debug("could not read the articles' table statistics", exc_info=True)
            return 0
        return max(0, int(rows or 0))

    def stored_more(self, articles: int) -> None:
        """Note ``articles`` more stored and committed; refresh if they reached the mark. A
        refresh that fails is logged and tried again at the next mark: the planner then only
        goes on guessing, as it did."""
        if not self.enabled or not articles:
            return
        if self.counted is None:
            self.counted = self._counted_at_start()
            self.next_at = max(self.next_at, self.counted)
        self.stored += articles
        if self.stored < self.next_at:
            return
        self.next_at = self.stored * 2 + self.counted  # when the table has doubled again
        try:
            with self.store.session() as session:
                session.execute(text(f"ANALYZE {', '.join(_TABLES)}"))
                session.commit()
        except Exception:  # noqa: BLE001 - the articles are stored; only plans stay worse
            log.warning("gathering the articles' table statistics failed", exc_info=True)
            return
        self.refreshed += 1
        log.debug("table statistics gathered after %d articles stored", self.stored)
