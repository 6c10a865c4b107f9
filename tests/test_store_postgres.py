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
