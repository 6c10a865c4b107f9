"""The same pipeline on PostgreSQL: runs where MONITOR_TEST_POSTGRES_URL is set (CI does)."""

from __future__ import annotations

import pytest

from monitor.config import FeedConfig
from tests.conftest import POSTGRES_SKIP, POSTGRES_URL, ConsoleCapture, make_settings
from tests.test_seeds_end_to_end import FEEDS, alert_blocks

# The pg_url fixture (tests/conftest.py) skips too; this says so once for the whole module.
pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason=POSTGRES_SKIP)


def test_seed_alerts_on_postgres(seed_server, pg_url):
    feeds = [FeedConfig(name=n, url=seed_server.url(p)) for n, p in FEEDS.items()]
    capture = ConsoleCapture(make_settings(pg_url, feeds))
    service = capture.service()
    service.cycle(force=True)
    blocks = alert_blocks(capture.take())
    assert len(blocks) == 2
    assert any("dprk-overseas-labor" in b and "Sources: 2" in b for b in blocks)
    service.cycle(force=True)
    assert alert_blocks(capture.take()) == []
    service.close()


def test_the_writers_large_values_are_compressed_with_lz4_where_the_server_has_it(pg_url):
    """Migration 0012: pglz cost the writer milliseconds a batch on its word counts."""
    from monitor.store import Store

    store = Store(pg_url)
    try:
        with store.engine.connect() as connection:
            has_lz4 = connection.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            ).scalar()
            methods = dict(
                connection.exec_driver_sql(
                    "SELECT attrelid::regclass::text || '.' || attname, attcompression "
                    "FROM pg_attribute WHERE (attrelid = 'term_count_batches'::regclass "
                    "AND attname = 'counts') OR (attrelid = 'articles'::regclass "
                    "AND attname = 'text')"
                ).all()
            )
    finally:
        store.close()
    expected = "l" if has_lz4 else ""
    assert methods == {"term_count_batches.counts": expected, "articles.text": expected}
