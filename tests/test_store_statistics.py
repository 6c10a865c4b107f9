"""The writer gathers PostgreSQL's table statistics as a store fills, each time it doubles."""

from __future__ import annotations

import logging

from sqlalchemy import text

from monitor.detect.pipeline import Pipeline
from monitor.detect.rules import Matcher
from monitor.models import Article
from monitor.store import Store, statistics
from monitor.store.statistics import Statistics


def items(start: int, count: int) -> list[Article]:
    return [
        Article(
            title=f"Report {n}",
            text=f"Grain prices moved in district {n} on market day.",
            source="Wire",
            feed="f1",
            external_id=f"g{n}",
        )
        for n in range(start, start + count)
    ]


def rows_seen(store: Store) -> float:
    """What the planner believes the articles table holds: -1 until statistics are gathered,
    then the count ANALYZE found (a catalog row, so it reads back at once)."""
    with store.session() as session:
        return session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'articles'::regclass")
        ).scalar_one()


def test_statistics_are_gathered_each_time_the_stored_articles_double(pg_url):
    store = Store(pg_url)
    try:
        pipeline = Pipeline(store, Matcher([]))
        pipeline.statistics = Statistics(store, first_at=4)
        assert rows_seen(store) == -1  # never gathered: the planner guesses
        pipeline.ingest(items(0, 3))
        assert pipeline.statistics.refreshed == 0
        pipeline.ingest(items(3, 2))  # 5 stored: past the first mark, the next is at 10
        assert pipeline.statistics.refreshed == 1 and rows_seen(store) == 5
        pipeline.ingest(items(5, 4))
        assert pipeline.statistics.refreshed == 1 and rows_seen(store) == 5
        pipeline.ingest(items(9, 1))
        assert pipeline.statistics.refreshed == 2 and rows_seen(store) == 10
    finally:
        store.close()


def test_a_store_whose_statistics_count_its_articles_waits_until_the_table_doubles(pg_url):
    """A process that starts on a large store, whose statistics autovacuum keeps, does not
    sample a million rows because it stored its first thousand."""
    store = Store(pg_url)
    try:
        Pipeline(store, Matcher([])).ingest(items(0, 12))
        with store.session() as session:
            session.execute(text("ANALYZE articles"))
            session.commit()
        assert rows_seen(store) == 12
        pipeline = Pipeline(store, Matcher([]))  # a new process: it stored nothing yet
        pipeline.statistics = Statistics(store, first_at=4)
        pipeline.ingest(items(12, 8))  # 20: past its first mark, but the table has not doubled
        assert pipeline.statistics.refreshed == 0 and rows_seen(store) == 12
        pipeline.ingest(items(20, 4))  # 24: twice what the statistics counted
        assert pipeline.statistics.refreshed == 1 and rows_seen(store) == 24
        pipeline.ingest(items(24, 23))  # 47: short of twice 24
        assert pipeline.statistics.refreshed == 1
        pipeline.ingest(items(47, 1))  # 48
        assert pipeline.statistics.refreshed == 2 and rows_seen(store) == 48
    finally:
        store.close()


def test_a_failed_refresh_is_logged_and_stores_everything(pg_url, monkeypatch, caplog):
    monkeypatch.setattr(statistics, "_TABLES", ("no_such_table",))
    store = Store(pg_url)
    try:
        pipeline = Pipeline(store, Matcher([]))
        pipeline.statistics = Statistics(store, first_at=2)
        with caplog.at_level(logging.WARNING, logger="monitor.store.statistics"):
            assert pipeline.ingest(items(0, 3)).new == 3
            assert pipeline.ingest(items(3, 3)).new == 3
        assert "table statistics failed" in caplog.text
        assert pipeline.statistics.refreshed == 0
    finally:
        store.close()


def test_sqlite_is_left_alone(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        pipeline = Pipeline(store, Matcher([]))
        pipeline.statistics = Statistics(store, first_at=1)
        assert pipeline.ingest(items(0, 3)).new == 3
        assert not pipeline.statistics.enabled and pipeline.statistics.refreshed == 0
    finally:
        store.close()
